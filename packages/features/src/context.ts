/**
 * What every indicator kernel sees for the current bar: the candle, a few values derived once per
 * bar (previous close, log return) and the optional extra data aligned to this bar's close.
 * One mutable object reused for every bar, so the hot loop allocates nothing.
 */
export interface BarContext {
  /** 0-based index of this bar since the engine started. */
  index: number;
  tsMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Close of the previous bar (NaN on the first bar). */
  prevClose: number;
  /** ln(close / prevClose) (NaN on the first bar). */
  logReturn: number;
  /** ln(high / low), computed lazily once per bar by logHighLow(). */
  logHL: number;
  logHLIndex: number;
  // ---- optional extras, aligned to this bar's close time (NaN / empty when unknown) ----
  /** Best bid / ask of the latest orderbook snapshot at or before the close. */
  bestBid: number;
  bestAsk: number;
  /** Cumulative bid / ask size over the top k levels: bidDepth[k-1] (length = max levels used). */
  bidDepth: Float64Array;
  askDepth: Float64Array;
  /** Taker buy / sell volume of the trades assigned to this bar. */
  buyVolume: number;
  sellVolume: number;
  fundingRate: number;
  openInterest: number;
}

export const MAX_BOOK_LEVELS = 200;

export function newContext(): BarContext {
  return {
    index: -1,
    tsMs: 0,
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    volume: 0,
    prevClose: NaN,
    logReturn: NaN,
    logHL: 0,
    logHLIndex: -1,
    bestBid: NaN,
    bestAsk: NaN,
    bidDepth: new Float64Array(MAX_BOOK_LEVELS),
    askDepth: new Float64Array(MAX_BOOK_LEVELS),
    buyVolume: 0,
    sellVolume: 0,
    fundingRate: NaN,
    openInterest: NaN,
  };
}

/**
 * One feature's state machine: fed one bar at a time, writes its `names.length` outputs at
 * out[at..]. Every output is finite (0 or a documented neutral value while not ready).
 * `warmup` is the first bar index at which all its outputs are valid.
 */
export interface FeatureKernel {
  readonly names: readonly string[];
  readonly warmup: number;
  step(ctx: BarContext, out: Float64Array, at: number): void;
}

/** ln(high / low) of the current bar, computed at most once per bar whoever asks. */
export function logHighLow(ctx: BarContext): number {
  if (ctx.logHLIndex !== ctx.index) {
    ctx.logHLIndex = ctx.index;
    ctx.logHL = Math.log(ctx.high / ctx.low);
  }
  return ctx.logHL;
}
