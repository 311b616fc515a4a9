// Candle CSV read/write speed: a 49,118-row real file (bybit_BTCUSDT_1h.csv) and a 50,000-row
// synthetic file, against a naive split-based parser as the baseline. Goal: well under 1 s.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket, readCandlesCsvSync } from '@task-agnostic/core';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

function naiveParse(text: string): number {
  const rows = text.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return rows.length;
}

function time(fn: () => unknown, reps = 7): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

const files: [string, string][] = [];
const dir = benchDataDir();
if (dir) files.push(['bybit_BTCUSDT_1h.csv (real)', path.join(dir, 'candles', 'bybit_BTCUSDT_1h.csv')]);
const synth = path.join(mkdtempSync(path.join(tmpdir(), 'tat-bench-')), 'synthetic_50000.csv');
writeFileSync(synth, formatCandlesCsv(generateSyntheticMarket({ bars: 50_000, seed: 1 }).candles));
files.push(['synthetic 50,000 rows', synth]);

const rows: (string | number)[][] = [['file', 'read+validate median ms', 'naive split parse ms', 'ratio (naive/ours)', 'write median ms', 'goal']];
for (const [label, f] of files) {
  const ours = percentiles(time(() => readCandlesCsvSync(f, { interval: '1h' }))).median;
  const text = readFileSync(f, 'utf8');
  const naive = percentiles(time(() => naiveParse(text))).median;
  const cols = readCandlesCsvSync(f, { interval: '1h' }).candles;
  const write = percentiles(time(() => formatCandlesCsv(cols))).median;
  rows.push([label, ours, naive, naive / ours, write, ours < 1000 ? '< 1000 ms: met' : '< 1000 ms: MISSED']);
}
printTable(rows);
