import { INTERVAL_MS, type Candle, type CandleColumns, type ClosedCandle, type Interval, type SymbolId } from '@task-agnostic/core';
import { BybitProtocolError } from './errors.js';
import { backoffMs, sleep } from './rate-limit.js';
import { num } from './wire.js';

/** Where a candle stream backfills from (the REST API). */
export interface CandleSource {
  /** All closed candles with tsMs >= fromMs, oldest first. */
  closedSince(symbol: SymbolId, interval: Interval, fromMs: number): Promise<CandleColumns>;
  /** tsMs of the newest closed candle, or undefined when there is none. */
  lastClosedTs(symbol: SymbolId, interval: Interval): Promise<number | undefined>;
}

export interface CandleStreamStats {
  delivered: number;
  fromWs: number;
  fromRest: number;
  duplicatesDropped: number;
  backfills: number;
  backfillErrors: number;
}

export interface CandleStreamOptions {
  /** Deliver closed candles from this open time on (backfilled over REST); default: only new ones. */
  readonly fromMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly onError?: (err: Error) => void;
}

/** Parses one item of a kline push. */
export function parseWsKline(d: Record<string, unknown>): { candle: Candle; confirm: boolean } {
  if (typeof d !== 'object' || d === null) throw new BybitProtocolError('kline', 'item is not an object');
  const candle: Candle = {
    tsMs: num(d.start, 'kline.start'), open: num(d.open, 'kline.open'), high: num(d.high, 'kline.high'), low: num(d.low, 'kline.low'),
    close: num(d.close, 'kline.close'), volume: num(d.volume, 'kline.volume'), turnover: num(d.turnover, 'kline.turnover', true),
  };
  return { candle, confirm: d.confirm === true };
}

/**
 * Exactly-once, in-order closed candles from a kline topic. Each symbol keeps the open time of the
 * last candle delivered; a WebSocket candle at or before it is a duplicate (dropped); one beyond the
 * next expected time means candles were missed, and they are fetched over REST first. After every
 * (re)connect the stream backfills whatever closed while it was away. All work for one symbol runs
 * in one promise chain, so REST backfills and WebSocket pushes never interleave.
 */
export class CandleStream {
  private readonly last = new Map<SymbolId, number>();
  private readonly chains = new Map<SymbolId, Promise<void>>();
  private readonly iv: number;
  private stopped = false;
  readonly stats: CandleStreamStats = { delivered: 0, fromWs: 0, fromRest: 0, duplicatesDropped: 0, backfills: 0, backfillErrors: 0 };

  constructor(
    readonly symbols: readonly SymbolId[],
    readonly interval: Interval,
    private readonly source: CandleSource,
    private readonly onCandle: (c: ClosedCandle) => void,
    private readonly o: CandleStreamOptions = {},
  ) {
    this.iv = INTERVAL_MS[interval];
  }

  /** Sets the starting point of each symbol (REST), before the socket subscribes. */
  async init(): Promise<void> {
    for (const s of this.symbols) {
      if (this.o.fromMs !== undefined) this.last.set(s, Math.ceil(this.o.fromMs / this.iv) * this.iv - this.iv);
      else this.last.set(s, (await this.source.lastClosedTs(s, this.interval)) ?? -Infinity);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Waits until all queued work (backfills, deliveries) is done. */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  lastDeliveredTs(symbol: SymbolId): number | undefined {
    const v = this.last.get(symbol);
    return v === undefined || v === -Infinity ? undefined : v;
  }

  /** After a (re)connect: fetch what closed meanwhile. */
  onConnected(): void {
    for (const s of this.symbols) this.enqueue(s, () => this.catchUp(s));
  }

  /** A kline push for `symbol`. */
  onPush(symbol: SymbolId, data: unknown): void {
    if (!this.last.has(symbol)) return;
    if (!Array.isArray(data)) throw new BybitProtocolError('kline', 'data is not an array');
    for (const d of data) {
      const { candle, confirm } = parseWsKline(d as Record<string, unknown>);
      if (confirm) this.enqueue(symbol, () => this.onClosed(symbol, candle));
    }
  }

  private enqueue(symbol: SymbolId, job: () => Promise<void>): void {
    const prev = this.chains.get(symbol) ?? Promise.resolve();
    const next = prev.then(job).catch((err: unknown) => this.o.onError?.(err as Error));
    this.chains.set(symbol, next);
  }

  private async onClosed(symbol: SymbolId, c: Candle): Promise<void> {
    if (this.stopped) return;
    const last = this.last.get(symbol)!;
    if (c.tsMs <= last) {
      this.stats.duplicatesDropped++;
      return;
    }
    if (last !== -Infinity && c.tsMs > last + this.iv) await this.catchUp(symbol);
    if (c.tsMs > this.last.get(symbol)!) {
      this.stats.fromWs++;
      this.deliver(symbol, c);
    } else {
      this.stats.duplicatesDropped++;
    }
  }

  private async catchUp(symbol: SymbolId): Promise<void> {
    const last = this.last.get(symbol)!;
    if (last === -Infinity) return;
    this.stats.backfills++;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const cs = await this.source.closedSince(symbol, this.interval, this.last.get(symbol)! + this.iv);
        for (let i = 0; i < cs.length && !this.stopped; i++) {
          if (cs.tsMs[i]! <= this.last.get(symbol)!) continue;
          this.stats.fromRest++;
          this.deliver(symbol, {
            tsMs: cs.tsMs[i]!, open: cs.open[i]!, high: cs.high[i]!, low: cs.low[i]!, close: cs.close[i]!, volume: cs.volume[i]!,
            ...(Number.isNaN(cs.turnover[i]!) ? {} : { turnover: cs.turnover[i]! }),
          });
        }
        return;
      } catch (err) {
        this.stats.backfillErrors++;
        this.o.onError?.(err as Error);
        await sleep(backoffMs(attempt, this.o.retryBaseMs ?? 500, this.o.retryMaxMs ?? 30_000));
      }
    }
  }

  private deliver(symbol: SymbolId, c: Candle): void {
    this.last.set(symbol, c.tsMs);
    this.stats.delivered++;
    try {
      this.onCandle({ symbol, interval: this.interval, candle: c });
    } catch (err) {
      this.o.onError?.(err as Error);
    }
  }
}
