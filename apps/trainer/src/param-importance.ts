/**
 * Each searched parameter's importance for the objective over the finished trials: the share of
 * the objective's variance explained by the parameter alone (eta squared of a one-way analysis of
 * variance: choices grouped by value, numbers by rank into up to 4 equal-count bins). Marginal and
 * descriptive: it ignores interactions, and with few trials every figure is noisy.
 */
import { encode, type Params, type SearchSpace } from './sweep-space.js';

export interface ParamImportance {
  readonly name: string;
  /** Between-group sum of squares over the total (0..1). */
  readonly etaSquared: number;
  /** etaSquared over the sum across parameters (0..1; the shares sum to 1 when any is > 0). */
  readonly share: number;
}

function etaSquared(groups: readonly number[][], all: readonly number[]): number {
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const total = all.reduce((a, v) => a + (v - mean) ** 2, 0);
  if (!(total > 0)) return 0;
  let between = 0;
  for (const g of groups) {
    if (!g.length) continue;
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    between += g.length * (m - mean) ** 2;
  }
  return between / total;
}

export function paramImportance(space: SearchSpace, rows: readonly { params: Params; value: number }[]): ParamImportance[] {
  const ok = rows.filter((r) => Number.isFinite(r.value));
  const values = ok.map((r) => r.value);
  const raw = space.names.map((name) => {
    const p = space.params[name]!;
    if (ok.length < 3) return { name, etaSquared: 0 };
    let groups: number[][];
    if (p.type === 'choice') {
      groups = p.values.map((v) => ok.filter((r) => r.params[name] === v).map((r) => r.value));
    } else {
      const bins = Math.max(2, Math.min(4, Math.floor(ok.length / 3)));
      const order = ok.map((r, i) => ({ u: encode(p, r.params[name]!), i })).sort((a, b) => a.u - b.u || a.i - b.i);
      groups = Array.from({ length: bins }, () => [] as number[]);
      order.forEach((o, rank) => groups[Math.min(bins - 1, Math.floor((rank * bins) / order.length))]!.push(ok[o.i]!.value));
    }
    return { name, etaSquared: etaSquared(groups, values) };
  });
  const sum = raw.reduce((a, r) => a + r.etaSquared, 0);
  return raw.map((r) => ({ ...r, share: sum > 0 ? r.etaSquared / sum : 0 }));
}
