/**
 * Market data for the loop: a CSV replay (`--replay file --speed 60x | max`) or a Bybit kline
 * stream (live Bybit, or the simulator via `--base-url`). Both deliver closed candles in order and
 * resume after the last candle the journal holds.
 */
import { ConfigError, INTERVAL_MS, checkCandleSpacing, readCandlesCsvSync, type Candle, type Interval, type SymbolId } from '@task-agnostic/core';

/** Replay speed: 'max' = as fast as the loop runs; k = k times real time (60 = one hour-bar a minute). */
export type ReplaySpeed = number | 'max';

/** Parses '60x', '60', 'max'. */
export function parseSpeed(text: string): ReplaySpeed {
  if (text === 'max') return 'max';
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v > 0) || !Number.isFinite(v)) throw new ConfigError(`--speed must be like 60x or max, got '${text}'`, 'speed');
  return v;
}

export interface ReplayOptions {
  readonly file: string;
  readonly interval: Interval;
  readonly speed: ReplaySpeed;
  /** Only candles with tsMs > afterMs are delivered (resume after the journal's last candle). */
  readonly afterMs?: number;
  /** Stop after this many delivered candles (tests, demos). */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    // The listener goes when the timer fires: one per candle would pile up on a long replay.
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Reads the CSV (validated by core: bad rows are a DataError naming the row) and replays it. */
export async function replayCsv(o: ReplayOptions, onCandle: (c: Candle, receivedAt: number) => Promise<unknown>): Promise<number> {
  const { candles: c } = readCandlesCsvSync(o.file);
  checkCandleSpacing(c, o.interval, o.file);
  const barMs = INTERVAL_MS[o.interval];
  const wait = o.speed === 'max' ? 0 : barMs / o.speed;
  let sent = 0;
  for (let i = 0; i < c.length; i++) {
    if (o.signal?.aborted) break;
    if (o.afterMs !== undefined && c.tsMs[i]! <= o.afterMs) continue;
    if (o.limit !== undefined && sent >= o.limit) break;
    const candle: Candle = { tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! };
    await onCandle(candle, performance.now());
    sent++;
    // Let signals (SIGINT, SIGTERM, kill) in between candles even at full speed.
    if (wait > 0) await sleep(wait, o.signal);
    else await new Promise<void>((r) => setImmediate(r));
  }
  return sent;
}

export interface PortfolioReplayOptions extends Omit<ReplayOptions, 'file' | 'afterMs'> {
  /** One CSV per symbol. */
  readonly files: Readonly<Record<SymbolId, string>>;
  /** Symbols in step order. */
  readonly symbols: readonly SymbolId[];
  /** Per symbol: only candles with tsMs > afterMs are delivered (resume after the journal). */
  readonly afterMs?: Readonly<Record<SymbolId, number>>;
}

/**
 * Replays one CSV per symbol as time steps: all candles with the same open time together (symbols
 * missing a bar are left out of that step). `limit` counts steps.
 */
export async function replayCsvs(o: PortfolioReplayOptions, onStep: (candles: Map<SymbolId, { candle: Candle; receivedAt: number }>) => Promise<unknown>): Promise<number> {
  const cols = o.symbols.map((s) => {
    const f = o.files[s];
    if (!f) throw new ConfigError(`no replay CSV for ${s}`, 'replay');
    const c = readCandlesCsvSync(f).candles;
    // a 1m file replayed as --interval 1h (or timestamps in seconds) is refused, not traded
    checkCandleSpacing(c, o.interval, f);
    return c;
  });
  const idx = o.symbols.map(() => 0);
  const barMs = INTERVAL_MS[o.interval];
  const wait = o.speed === 'max' ? 0 : barMs / o.speed;
  let sent = 0;
  for (;;) {
    if (o.signal?.aborted) break;
    if (o.limit !== undefined && sent >= o.limit) break;
    let ts = Infinity;
    cols.forEach((c, k) => {
      const i = idx[k]!;
      if (i < c.length && c.tsMs[i]! < ts) ts = c.tsMs[i]!;
    });
    if (!Number.isFinite(ts)) break;
    const step = new Map<SymbolId, { candle: Candle; receivedAt: number }>();
    const now = performance.now();
    cols.forEach((c, k) => {
      const i = idx[k]!;
      if (i >= c.length || c.tsMs[i] !== ts) return;
      idx[k]!++;
      const s = o.symbols[k]!;
      if (o.afterMs?.[s] !== undefined && ts <= o.afterMs[s]!) return;
      step.set(s, { candle: { tsMs: ts, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! }, receivedAt: now });
    });
    if (step.size === 0) continue;
    await onStep(step);
    sent++;
    if (wait > 0) await sleep(wait, o.signal);
    else await new Promise<void>((r) => setImmediate(r));
  }
  return sent;
}
