/**
 * Inline SVG charts for the HTML report: plain strings, no scripts, nothing fetched. Long series
 * are reduced to a min/max pair per pixel column, so a 50,000-bar curve keeps its extremes.
 */

export interface ChartSeries {
  readonly label: string;
  readonly values: ArrayLike<number>;
  readonly color: string;
  /** Fill the area between the line and zero (drawdown chart). */
  readonly area?: boolean;
}

export interface ChartMarker {
  readonly tsMs: number;
  readonly price: number;
  readonly shape: 'up' | 'down' | 'dot';
  readonly color: string;
  readonly title: string;
}

export interface LineChartOptions {
  readonly title: string;
  readonly tsMs: ArrayLike<number>;
  readonly series: readonly ChartSeries[];
  readonly width?: number;
  readonly height?: number;
  readonly yFormat?: (v: number) => string;
  readonly markers?: readonly ChartMarker[];
  /** Include zero in the y range. */
  readonly includeZero?: boolean;
  /** Labels of the x axis; default: UTC dates (tsMs holds times). Charts over epochs pass their own. */
  readonly xFormat?: (x: number) => string;
}

const PAD = { left: 72, right: 16, top: 30, bottom: 28 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Indices to draw: every point when few, else the first/min/max/last of each pixel column. */
export function downsampleIndices(values: ArrayLike<number>, columns: number): number[] {
  const n = values.length;
  if (n <= columns * 2) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let b = 0; b < columns; b++) {
    const s = Math.floor((b * n) / columns);
    const e = Math.floor(((b + 1) * n) / columns);
    let lo = s;
    let hi = s;
    for (let i = s; i < e; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    const pick = [s, lo, hi, e - 1].sort((a, z) => a - z);
    for (const i of pick) if (out[out.length - 1] !== i) out.push(i);
  }
  return out;
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const fmtDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 1100;
  const H = o.height ?? 300;
  const yf = o.yFormat ?? ((v: number) => v.toFixed(2));
  const xf = o.xFormat ?? fmtDate;
  const n = o.tsMs.length;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  if (n === 0) return `<svg width="${W}" height="${H}" role="img"><text x="10" y="20">${escapeXml(o.title)}: no data</text></svg>`;
  const t0 = o.tsMs[0]!;
  const t1 = n > 1 ? o.tsMs[n - 1]! : t0 + 1;
  let lo = o.includeZero ? 0 : Infinity;
  let hi = o.includeZero ? 0 : -Infinity;
  for (const s of o.series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  for (const m of o.markers ?? []) {
    if (m.price < lo) lo = m.price;
    if (m.price > hi) hi = m.price;
  }
  if (!(hi > lo)) {
    hi = lo + 1;
    lo -= 1;
  }
  const margin = (hi - lo) * 0.04;
  lo -= o.includeZero && lo === 0 ? 0 : margin;
  hi += o.includeZero && hi === 0 ? 0 : margin;
  const x = (ts: number) => PAD.left + ((ts - t0) / (t1 - t0 || 1)) * pw;
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(`<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${PAD.left}" y="18" font-size="14" font-weight="bold" fill="#222">${escapeXml(o.title)}</text>`);
  for (const v of niceTicks(lo, hi)) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${yy}" font-size="11" fill="#555" text-anchor="end" dominant-baseline="middle">${escapeXml(yf(v))}</text>`);
  }
  const xticks = 6;
  for (let k = 0; k <= xticks; k++) {
    const ts = t0 + ((t1 - t0) * k) / xticks;
    const xx = x(ts).toFixed(1);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#f0f0f0"/>`);
    const anchor = k === 0 ? 'start' : k === xticks ? 'end' : 'middle';
    parts.push(`<text x="${xx}" y="${H - 8}" font-size="11" fill="#555" text-anchor="${anchor}">${escapeXml(xf(ts))}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const s of o.series) {
    const idx = downsampleIndices(s.values, Math.max(50, Math.floor(pw)));
    const pts = idx.map((i) => `${x(o.tsMs[i]!).toFixed(1)},${y(s.values[i]!).toFixed(1)}`).join(' ');
    if (s.area) {
      const base = y(0).toFixed(1);
      const first = x(o.tsMs[idx[0]!]!).toFixed(1);
      const last = x(o.tsMs[idx[idx.length - 1]!]!).toFixed(1);
      parts.push(`<polygon points="${first},${base} ${pts} ${last},${base}" fill="${s.color}" fill-opacity="0.35" stroke="none"/>`);
    }
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="1.3"/>`);
  }
  for (const m of o.markers ?? []) {
    const mx = x(m.tsMs);
    const my = y(m.price);
    const shape =
      m.shape === 'up'
        ? `<path d="M${mx.toFixed(1)} ${(my - 5).toFixed(1)} l4.5 8 h-9 z"`
        : m.shape === 'down'
          ? `<path d="M${mx.toFixed(1)} ${(my + 5).toFixed(1)} l4.5 -8 h-9 z"`
          : `<circle cx="${mx.toFixed(1)}" cy="${my.toFixed(1)}" r="3"`;
    parts.push(`${shape} fill="${m.color}" stroke="#fff" stroke-width="0.6"><title>${escapeXml(m.title)}</title>${shape.startsWith('<circle') ? '</circle>' : '</path>'}`);
  }
  let lx = PAD.left + pw;
  for (const s of [...o.series].reverse()) {
    const w = 14 + s.label.length * 6.5;
    lx -= w + 12;
    parts.push(`<rect x="${lx.toFixed(0)}" y="8" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${(lx + 14).toFixed(0)}" y="17" font-size="11" fill="#333">${escapeXml(s.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
