import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { generateSyntheticMarket, readCandlesCsvSync, sliceColumns } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { runSignalBacktest } from './engine.js';
import { renderReportHtml } from './report-html.js';
import { backtestReportJson, renderReportJson } from './report-json.js';

function candles(): CandleColumns {
  const f = candleFile('bybit_BTCUSDT_1h.csv');
  if (!f) return generateSyntheticMarket({ bars: 8000, seed: 3 }).candles;
  const c = readCandlesCsvSync(f, { interval: '1h' }).candles;
  return sliceColumns(c, c.length - 8000);
}

/** 7-day momentum, 0.5 of equity, 3% stop, 6% target. */
function run() {
  const c = candles();
  const s = new Float64Array(c.length).fill(NaN);
  for (let t = 168; t < c.length; t++) s[t] = c.close[t]! > c.close[t - 168]! ? 0.5 : -0.5;
  return runSignalBacktest(c, s, { symbol: 'BTCUSDT', interval: '1h', stopLossPct: 0.03, takeProfitPct: 0.06 });
}

/** Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) to RGBA-ish rows. */
function decodePng(buf: Buffer): { width: number; height: number; px: (x: number, y: number) => [number, number, number] } {
  expect(buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
  let off = 8;
  let width = 0, height = 0, colorType = 0, depth = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8]!;
      colorType = data[9]!;
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  expect(depth).toBe(8);
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : NaN;
  expect(bpp).not.toBeNaN();
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= bpp ? out[y * stride + i - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= bpp ? out[(y - 1) * stride + i - bpp]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[y * stride + i] = (x + pred) & 255;
    }
  }
  return { width, height, px: (x, y) => [out[y * stride + x * bpp]!, out[y * stride + x * bpp + 1]!, out[y * stride + x * bpp + 2]!] };
}

describe('report', () => {
  const r = run();
  const html = renderReportHtml(r);

  it('the HTML is self-contained and carries every section', () => {
    expect(r.trades.length).toBeGreaterThan(20);
    for (const bad of ['<script', '<link', '<img', '@import', 'url(', 'src=', 'href=', 'http:', 'https:']) expect(html).not.toContain(bad);
    for (const part of ['Equity vs buy &amp; hold', 'Drawdown', 'Price and trades', 'Monthly returns', 'Sharpe ratio', 'Sortino ratio', 'Calmar ratio', 'Profit factor', 'Intrabar rule:', 'Worst case', 'Gaps:']) {
      expect(html).toContain(part);
    }
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).toMatch(new RegExp(`\\(\\d+ of ${r.trades.length} trades marked`));
    // Every Sharpe ratio with its interval and the number of trades behind it.
    expect(html).toContain(`Sharpe ratio [95% CI] <small>(${r.trades.length} trades)</small>`);
    expect(html).toMatch(new RegExp(`<td>${r.metrics.sharpe.toFixed(2).replace('.', '\\.')} \\[-?\\d+\\.\\d\\d, -?\\d+\\.\\d\\d\\]</td>`));
  });

  it('the JSON carries the same numbers, the rule used, and round-trips', () => {
    const text = renderReportJson(r);
    const back = JSON.parse(text) as ReturnType<typeof backtestReportJson>;
    expect(back.metrics.sharpe).toBe(r.metrics.sharpe);
    expect(back.intrabar.rule).toBe('worst_case');
    expect(back.intrabar.description).toMatch(/adverse/);
    expect(back.curves.equity).toHaveLength(r.candles.length);
    expect(back.trades).toHaveLength(r.trades.length);
    expect(back.monthly).toEqual(r.monthly);
    expect(text).not.toMatch(/Infinity|NaN/);
  });

  it('a run without trades still renders (empty tables, flat equity)', () => {
    const c = generateSyntheticMarket({ bars: 50, seed: 1 }).candles;
    const flat = runSignalBacktest(c, new Float64Array(c.length).fill(NaN), { interval: '1h' });
    const h = renderReportHtml(flat);
    expect(h).toContain('no trades');
    expect(h).toContain('(0 of 0 trades marked');
    expect(h).not.toMatch(/NaN|undefined/);
    expect(JSON.parse(renderReportJson(flat)).metrics.trades).toBe(0);
  });

  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('which', [b]).status === 0);
  if (!chromium) console.warn('[skip] chromium is not installed (apt-get install -y chromium): the render check is skipped');
  it.skipIf(!chromium)('renders in headless Chromium to a non-blank screenshot', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bt-report-'));
    const file = path.join(dir, 'report.html');
    const png = path.join(dir, 'report.png');
    writeFileSync(file, html);
    const p = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, `--screenshot=${png}`, '--window-size=1280,2000', `file://${file}`], { timeout: 90_000, encoding: 'utf8' });
    expect(existsSync(png), `chromium wrote no screenshot: ${p.stderr}`).toBe(true);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1280, 2000]);
    const colors = new Set<number>();
    let nonBackground = 0;
    for (let y = 0; y < img.height; y += 4) {
      for (let x = 0; x < img.width; x += 4) {
        const [r0, g, b] = img.px(x, y);
        colors.add((r0 << 16) | (g << 8) | b);
        if (!(r0 > 240 && g > 240 && b > 240)) nonBackground++;
      }
    }
    // text, lines, the blue equity curve and the coloured monthly cells
    expect(colors.size).toBeGreaterThan(50);
    expect(nonBackground / ((img.width / 4) * (img.height / 4))).toBeGreaterThan(0.01);
    if (process.env.TAT_KEEP_REPORT) console.log(`report: ${file}\nscreenshot: ${png}`);
  });
});
