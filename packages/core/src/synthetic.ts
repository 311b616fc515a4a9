import type { CandleColumns, SymbolId } from './candle.js';
import { allocColumns } from './columnar.js';
import { ConfigError } from './errors.js';
import { INTERVAL_MS, type Interval } from './interval.js';
import { Rng, type Seed } from './rng.js';
import { REGIMES, type Regime } from './task-outputs.js';

/** Per-bar drift (log return), base volatility (std of log returns) and mean reversion of one regime. */
export interface RegimeParams {
  readonly drift: number;
  readonly vol: number;
  /**
   * Pull per bar of the log price back to where the regime began (an Ornstein-Uhlenbeck term,
   * r -= reversion * (ln P - anchor)); 0 = none. Default 0.
   */
  readonly reversion?: number;
}

export interface SyntheticMarketOptions {
  readonly bars?: number;
  readonly seed?: Seed;
  readonly symbol?: SymbolId;
  readonly interval?: Interval;
  readonly startMs?: number;
  readonly startPrice?: number;
  /** Mean length of a regime in bars (geometric durations). */
  readonly meanRegimeBars?: number;
  readonly regimes?: Partial<Record<Regime, RegimeParams>>;
  /** GARCH(1,1)-like clustering on top of the regime's base volatility: alpha + beta < 1. */
  readonly garchAlpha?: number;
  readonly garchBeta?: number;
  /** Degrees of freedom of the Student-t innovations (fat tails); > 2. */
  readonly tailDf?: number;
  /** Probability per bar of a jump, and its size in units of the bar's volatility. */
  readonly jumpProbability?: number;
  readonly jumpSizeSigmas?: number;
  /** @deprecated use regimes.sideways.reversion; when given, overrides it. */
  readonly sidewaysReversion?: number;
  /** Typical volume per bar in base units. */
  readonly baseVolume?: number;
}

export interface SyntheticMarket {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly candles: CandleColumns;
  /** The true regime of each bar, as an index into REGIMES. */
  readonly regimes: Uint8Array;
  /** The true conditional volatility (std of the bar's log return before jumps) of each bar. */
  readonly sigma: Float64Array;
  readonly regimeNames: readonly Regime[];
  /** The options used, with defaults filled in. */
  readonly options: Required<Omit<SyntheticMarketOptions, 'regimes'>> & { readonly regimes: Readonly<Record<Regime, RegimeParams>> };
}

/**
 * Defaults, calibrated on real 1h crypto (Bybit BTC/ETH/SOL perpetuals 2021-2025, see the README):
 * one-bar std 0.64-1.16% there, 0.7-0.9% here. Regimes differ in volatility the way crypto's do (a
 * ladder: quiet < bull < sideways < bear < turbulent, each 1.6x the one below, so a causal filter
 * can tell them apart: the oracle recovers 86-92% of them, see the README), and in drift and mean
 * reversion. Drifts are a few basis points per bar: a 720-bar (30-day) bull run gains ~33% on average.
 */
export const DEFAULT_REGIME_PARAMS: Readonly<Record<Regime, RegimeParams>> = {
  bull: { drift: 0.0004, vol: 0.0034 },
  bear: { drift: -0.0005, vol: 0.0085 },
  sideways: { drift: 0, vol: 0.0055, reversion: 0.05 },
  high_volatility: { drift: 0, vol: 0.0135 },
  low_volatility: { drift: 0.00003, vol: 0.0021, reversion: 0.05 },
};

/**
 * The generator's former defaults: strongly separated regimes (trend drifts of 15 bp per bar,
 * 200-bar spells). Not realistic (3-week moves of ~40%); for tests of learning machinery that need
 * an easy, clearly structured market: `generateSyntheticMarket({ ...SEPARATED_MARKET, bars, seed })`.
 */
export const SEPARATED_MARKET: Readonly<SyntheticMarketOptions> = {
  meanRegimeBars: 200,
  garchAlpha: 0.08,
  garchBeta: 0.88,
  regimes: {
    bull: { drift: 0.0015, vol: 0.008 },
    bear: { drift: -0.0017, vol: 0.009 },
    sideways: { drift: 0, vol: 0.004, reversion: 0.02 },
    high_volatility: { drift: 0, vol: 0.02 },
    low_volatility: { drift: 0.0001, vol: 0.0016 },
  },
};

const SUBSTEPS = 8;

/**
 * A regime-switching synthetic market: the built-in default data of the toolkit.
 *
 * Regimes (bull, bear, sideways, high- and low-volatility) follow a Markov chain with geometric
 * durations. Inside a regime, log returns are drift + sigma_t * z_t with Student-t z (fat tails);
 * sigma_t = regime vol * sqrt(m_t), where m_t follows a unit-mean GARCH(1,1) recursion
 * (volatility clustering). Jumps arrive rarely. Each bar's high and low come from a Brownian
 * bridge of sub-steps that ends at the close, so they are consistent with the path. Volume grows
 * with |return|. The same seed gives the same bytes.
 */
export function generateSyntheticMarket(options: SyntheticMarketOptions = {}): SyntheticMarket {
  const o = {
    bars: options.bars ?? 20_000,
    seed: options.seed ?? 42,
    symbol: options.symbol ?? 'SYNTHUSDT',
    interval: options.interval ?? ('1h' as Interval),
    startMs: options.startMs ?? Date.UTC(2022, 0, 1),
    startPrice: options.startPrice ?? 30_000,
    meanRegimeBars: options.meanRegimeBars ?? 720,
    garchAlpha: options.garchAlpha ?? 0.05,
    garchBeta: options.garchBeta ?? 0.85,
    tailDf: options.tailDf ?? 4,
    jumpProbability: options.jumpProbability ?? 0.002,
    jumpSizeSigmas: options.jumpSizeSigmas ?? 6,
    sidewaysReversion: options.sidewaysReversion ?? options.regimes?.sideways?.reversion ?? DEFAULT_REGIME_PARAMS.sideways.reversion ?? 0,
    baseVolume: options.baseVolume ?? 1_000,
    regimes: { ...DEFAULT_REGIME_PARAMS, ...(options.regimes ?? {}) },
  };
  o.regimes = { ...o.regimes, sideways: { ...o.regimes.sideways, reversion: o.sidewaysReversion } };
  if (!Number.isInteger(o.bars) || o.bars < 2) throw new ConfigError(`must be an integer >= 2, got ${o.bars}`, 'bars');
  if (!(o.startPrice > 0)) throw new ConfigError(`must be > 0, got ${o.startPrice}`, 'startPrice');
  if (!(o.meanRegimeBars >= 1)) throw new ConfigError(`must be >= 1, got ${o.meanRegimeBars}`, 'meanRegimeBars');
  if (!(o.garchAlpha >= 0 && o.garchBeta >= 0 && o.garchAlpha + o.garchBeta < 1)) {
    throw new ConfigError(`garchAlpha + garchBeta must be in [0, 1), got ${o.garchAlpha} + ${o.garchBeta}`, 'garchAlpha');
  }
  if (!(o.tailDf > 2)) throw new ConfigError(`must be > 2 (finite variance), got ${o.tailDf}`, 'tailDf');
  for (const r of REGIMES) {
    const p = o.regimes[r];
    if (!(Number.isFinite(p.drift) && p.vol > 0)) throw new ConfigError(`regime ${r} needs a finite drift and vol > 0`, `regimes.${r}`);
    const k = p.reversion ?? 0;
    if (!(k >= 0 && k < 1)) throw new ConfigError(`regime ${r}: reversion must be in [0, 1), got ${k}`, `regimes.${r}.reversion`);
  }

  const root = new Rng(o.seed);
  const regimeRng = root.split('regime');
  const retRng = root.split('returns');
  const pathRng = root.split('intrabar');
  const volRng = root.split('volume');

  const n = o.bars;
  const step = INTERVAL_MS[o.interval];
  const c = allocColumns(n);
  const regimes = new Uint8Array(n);
  const sigmas = new Float64Array(n);
  const stay = 1 - 1 / o.meanRegimeBars;
  const params = REGIMES.map((r) => o.regimes[r]);

  let regime = regimeRng.int(REGIMES.length);
  let m = 1; // GARCH variance multiplier, unit mean
  let prevZ = 0;
  let logP = Math.log(o.startPrice);
  let anchor = logP;
  const sub = new Float64Array(SUBSTEPS + 1);

  for (let i = 0; i < n; i++) {
    if (i > 0 && !regimeRng.bernoulli(stay)) {
      // Move to a different regime, uniformly.
      const next = regimeRng.int(REGIMES.length - 1);
      regime = next >= regime ? next + 1 : next;
      anchor = logP;
    }
    regimes[i] = regime;
    const p = params[regime]!;
    m = 1 - o.garchAlpha - o.garchBeta + o.garchAlpha * prevZ * prevZ * m + o.garchBeta * m;
    const sigma = p.vol * Math.sqrt(m);
    sigmas[i] = sigma;
    const z = retRng.studentT(o.tailDf);
    prevZ = z;
    let r = p.drift + sigma * z - (p.reversion ?? 0) * (logP - anchor);
    if (retRng.bernoulli(o.jumpProbability)) r += (retRng.bernoulli(0.5) ? 1 : -1) * o.jumpSizeSigmas * sigma * (0.75 + 0.5 * retRng.next());

    // Intrabar path: Brownian bridge of SUBSTEPS steps from 0 to r.
    const subStd = Math.abs(sigma) / Math.sqrt(SUBSTEPS);
    sub[0] = 0;
    for (let k = 1; k <= SUBSTEPS; k++) sub[k] = sub[k - 1]! + pathRng.normal() * subStd;
    const endW = sub[SUBSTEPS]!;
    let hi = 0;
    let lo = 0;
    for (let k = 1; k <= SUBSTEPS; k++) {
      const b = sub[k]! - (k / SUBSTEPS) * (endW - r);
      if (b > hi) hi = b;
      if (b < lo) lo = b;
    }
    const open = Math.exp(logP);
    logP += r;
    const close = Math.exp(logP);
    const high = open * Math.exp(hi);
    const low = open * Math.exp(lo);
    const vol = o.baseVolume * Math.exp(0.3 * volRng.normal() - 0.045) * (0.35 + Math.abs(r) / 0.007);

    c.tsMs[i] = o.startMs + i * step;
    c.open[i] = open;
    c.high[i] = Math.max(high, open, close);
    c.low[i] = Math.min(low, open, close);
    c.close[i] = close;
    c.volume[i] = vol;
    c.turnover[i] = vol * (open + close + c.high[i]! + c.low[i]!) / 4;
  }
  return { symbol: o.symbol, interval: o.interval, candles: c, regimes, sigma: sigmas, regimeNames: REGIMES, options: o };
}
