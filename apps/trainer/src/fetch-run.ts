import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BybitClient } from '@task-agnostic/bybit';
import type { Interval } from '@task-agnostic/core';
import type { Log } from './train-run.js';

export interface FetchOptions {
  readonly symbols: readonly string[];
  readonly interval: Interval;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly outDir: string;
  /** A Bybit-compatible REST base URL (e.g. the local simulator); default: Bybit mainnet public data. */
  readonly baseUrl?: string;
  readonly mode?: 'mainnet' | 'testnet' | 'demo';
  readonly progress?: boolean;
  readonly log: Log;
}

export interface FetchedFile {
  readonly symbol: string;
  readonly file: string;
  readonly rows: number;
  readonly appended: number;
  readonly resumedFromMs: number;
}

/**
 * Downloads closed candles into `<out>/bybit_<SYMBOL>_<interval>.csv`. Re-running resumes after the
 * last row already in the file, so an interrupted download continues where it stopped.
 */
export async function fetchCandles(o: FetchOptions): Promise<FetchedFile[]> {
  await mkdir(o.outDir, { recursive: true });
  const base = o.baseUrl?.replace(/\/$/, '');
  // Only REST is used here; the WebSocket URL follows Bybit's layout on the same host.
  const client = base
    ? new BybitClient({ mode: 'custom', restUrl: base, wsPublicUrl: `${base.replace(/^http/, 'ws')}/v5/public/linear` })
    : new BybitClient({ mode: o.mode ?? 'mainnet' });
  const out: FetchedFile[] = [];
  try {
    for (const symbol of o.symbols) {
      const file = path.join(o.outDir, `bybit_${symbol}_${o.interval}.csv`);
      const r = await client.downloadCandles({ symbol, interval: o.interval, startMs: o.sinceMs, endMs: o.untilMs, file, progress: o.progress ?? true });
      o.log(`${symbol}: ${r.rows} rows in ${file} (${r.appended} new${r.appended && r.rows > r.appended ? `, resumed from ${new Date(r.resumedFromMs).toISOString()}` : ''}, ${r.requests} requests)`);
      out.push({ symbol, file, rows: r.rows, appended: r.appended, resumedFromMs: r.resumedFromMs });
    }
  } finally {
    client.close();
  }
  return out;
}
