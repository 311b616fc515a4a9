import { appendFile, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { CANDLE_CSV_HEADER, DataError, formatCandlesCsv, INTERVAL_MS, parseCandlesCsvRaw, ProgressBar, type Interval, type SymbolId } from '@task-agnostic/core';
import { klinePages } from './klines.js';
import type { BybitTransport } from './transport.js';

export interface DownloadOptions {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly startMs: number;
  readonly endMs: number;
  /** CSV file in core's format (timestamp,open,high,low,close,volume,turnover); appended to. */
  readonly file: string;
  /** Show a ProgressBar (default true; TAT_NO_PROGRESS=1 silences it). */
  readonly progress?: boolean;
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface DownloadResult {
  readonly file: string;
  /** Rows in the file at the end. */
  readonly rows: number;
  /** Rows this run appended. */
  readonly appended: number;
  /** Where this run started (after the rows already in the file). */
  readonly resumedFromMs: number;
  readonly requests: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Cuts a torn last line (a crash mid-append) so the file ends on a complete row. */
async function repairTail(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return;
    const tail = Buffer.alloc(Math.min(size, 4096));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const lastNl = tail.lastIndexOf(0x0a);
    if (lastNl === tail.length - 1) return;
    await fh.close();
    await truncate(file, lastNl < 0 ? 0 : size - tail.length + lastNl + 1);
    return;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Downloads closed candles in [startMs, endMs) into `file`, appending page by page, so an
 * interrupted download resumes where the file ends (the rows already there are not fetched again).
 */
export async function downloadCandles(t: BybitTransport, o: DownloadOptions): Promise<DownloadResult> {
  const iv = INTERVAL_MS[o.interval];
  let resumeFrom = o.startMs;
  let rows = 0;
  if (await exists(o.file)) {
    await repairTail(o.file);
    const text = await readFile(o.file, 'utf8');
    if (text.trim().length === 0) {
      await writeFile(o.file, CANDLE_CSV_HEADER + '\n');
    } else {
      const c = parseCandlesCsvRaw(text, o.file);
      rows = c.length;
      for (let i = 1; i < c.length; i++) {
        if (!(c.tsMs[i]! > c.tsMs[i - 1]!)) throw new DataError(`${o.file}: row ${i + 1} is not after the previous one; cannot resume into an unsorted file`);
      }
      if (c.length > 0) resumeFrom = Math.max(o.startMs, c.tsMs[c.length - 1]! + iv);
    }
  } else {
    await writeFile(o.file, CANDLE_CSV_HEADER + '\n');
  }
  const total = Math.max(0, Math.ceil((o.endMs - resumeFrom) / iv));
  const bar = o.progress === false ? undefined : new ProgressBar({ total, label: `${o.symbol} ${o.interval}`, unit: 'bars', ...(o.progressStream ? { stream: o.progressStream } : {}) });
  let appended = 0;
  let requests = 0;
  if (resumeFrom < o.endMs) {
    for await (const p of klinePages(t, o.symbol, o.interval, resumeFrom, o.endMs)) {
      requests++;
      if (p.candles.length > 0) {
        const text = formatCandlesCsv(p.candles);
        await appendFile(o.file, text.slice(text.indexOf('\n') + 1));
        appended += p.candles.length;
      }
      bar?.update(Math.min(total, Math.ceil((p.toMs - resumeFrom) / iv)), `${appended} new`);
    }
  }
  bar?.done(`${appended} new rows`);
  return { file: o.file, rows: rows + appended, appended, resumedFromMs: resumeFrom, requests };
}
