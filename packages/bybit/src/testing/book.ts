import type { FeedState, SimMarket } from './market.js';

export type Level = [price: string, size: string];

export interface BookSide {
  readonly bids: Level[];
  readonly asks: Level[];
}

function hash32(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ Math.imul(b | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Levels are 10 ticks apart; the spread is one level. */
const LEVEL_TICKS = 10;

/**
 * Synthetic order book around the last price: `depth` levels a side, sizes pseudo-random but
 * deterministic in (level, version), so each bar changes some sizes and shifts levels with price.
 */
export function syntheticBook(market: SimMarket, f: FeedState, depth: number, version: number): BookSide {
  const mid = market.lastPrice(f);
  const step = f.tickSize * LEVEL_TICKS;
  const bestBidIdx = Math.floor(mid / step);
  const bids: Level[] = [];
  const asks: Level[] = [];
  for (let i = 0; i < depth; i++) {
    const bi = bestBidIdx - i;
    const ai = bestBidIdx + 1 + i;
    bids.push([market.fmtPrice(f, bi * step), sizeFor(bi, version, i)]);
    asks.push([market.fmtPrice(f, ai * step), sizeFor(ai, version, i)]);
  }
  return { bids, asks };
}

function sizeFor(levelIdx: number, version: number, rank: number): string {
  // A level's size changes only on some versions (about one in three), like a real book.
  const epoch = Math.floor((version + (hash32(levelIdx, 7) % 3)) / 3);
  const h = hash32(levelIdx, epoch);
  const size = 0.001 * (1 + (h % 5000)) * (1 + rank / 10);
  return size.toFixed(3);
}

/** The delta from `prev` to `next`: changed or new levels with their size, removed ones with "0". */
export function diffSide(prev: readonly Level[], next: readonly Level[]): Level[] {
  const old = new Map(prev.map(([p, s]) => [p, s]));
  const out: Level[] = [];
  const seen = new Set<string>();
  for (const [p, s] of next) {
    seen.add(p);
    if (old.get(p) !== s) out.push([p, s]);
  }
  for (const [p] of prev) if (!seen.has(p)) out.push([p, '0']);
  return out;
}
