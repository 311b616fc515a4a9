import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real-data folder for benchmarks (TAT_DATA_DIR, default ../shared/data), or null. */
export function benchDataDir(): string | null {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const dir = process.env.TAT_DATA_DIR ? path.resolve(process.env.TAT_DATA_DIR) : path.resolve(root, '../shared/data');
  return existsSync(path.join(dir, 'candles')) ? dir : null;
}

/** Median and p99 of a sample (sorted copy). */
export function percentiles(xs: readonly number[]): { median: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
  return { median: at(0.5), p99: at(0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

/** Prints a table: rows of cells, first row the header. */
export function printTable(rows: readonly (readonly (string | number)[])[]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNum(c) : c)));
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  for (const [i, r] of cells.entries()) {
    console.log('| ' + r.map((c, j) => c.padEnd(widths[j]!)).join(' | ') + ' |');
    if (i === 0) console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  }
}

function formatNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toPrecision(3);
}
