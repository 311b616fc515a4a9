/** Turns each feature spec of a config into its kernel, column names and the extra data it needs. */
import { ConfigError, REGIMES } from '@task-agnostic/core';
import type { FeatureSetConfig, FeatureSpec } from './config.js';
import type { FeatureKernel } from './context.js';
import type { ExtraGroup } from './extras.js';
import { SharedWindows } from './shared.js';
import { AdxKernel, CciKernel, MaCrossKernel, MacdHistKernel, RsiKernel, StochasticKernel, WilliamsRKernel } from './kernels-momentum.js';
import { CandleShapeKernel, DayOfWeekKernel, DistMaKernel, HourOfDayKernel, LogReturnKernel, ReturnKernel, TrendSlopeKernel, UpShareKernel } from './kernels-price.js';
import { AtrRatioKernel, BollingerKernel, RangeVolKernel, RealizedVolKernel, ReturnMomentKernel, VolOfVolKernel } from './kernels-volatility.js';
import { MfiKernel, ObvChangeKernel, VolumeRatioKernel, VolumeTrendKernel, VwapDevKernel } from './kernels-volume.js';
import { LogEwmaVolKernel, MaxDrawdownKernel } from './kernels-baseline.js';
import { MedianLogRangeKernel, RegimeHmmKernel, TrendTStatKernel } from './kernels-label.js';
import { DepthImbalanceKernel, ExtraChangeKernel, FundingRateKernel, SpreadKernel, TradeFlowKernel } from './kernels-extras.js';

/** The feature group of each kind (documentation, and which extras a kind needs). */
export const FEATURE_GROUP: Readonly<Record<FeatureSpec['kind'], string>> = {
  return: 'returns', log_return: 'returns', roc: 'momentum', rsi: 'momentum', macd_hist: 'momentum', ma_crossover: 'momentum',
  stochastic: 'momentum', cci: 'momentum', williams_r: 'momentum', adx: 'trend', realized_vol: 'volatility',
  bb_position: 'volatility', atr_ratio: 'volatility', parkinson_vol: 'volatility', garman_klass_vol: 'volatility',
  vol_of_vol: 'volatility', volume_ratio: 'volume', volume_trend: 'volume', obv_change: 'volume', mfi: 'volume',
  vwap_dev: 'volume', body_ratio: 'candle', upper_shadow: 'candle', lower_shadow: 'candle', range_pct: 'range',
  close_position: 'range', trend_strength: 'trend', trend_consistency: 'trend', dist_sma: 'trend', dist_ema: 'trend',
  return_skewness: 'distribution', return_kurtosis: 'distribution', hour_of_day: 'calendar', day_of_week: 'calendar',
  ob_spread: 'orderbook', ob_imbalance: 'orderbook', trade_flow: 'trades', funding_rate: 'funding',
  funding_change: 'funding', oi_change: 'openInterest', log_ewma_vol: 'volatility', max_drawdown: 'drawdown',
  trend_tstat: 'trend', median_log_range: 'volatility', regime_hmm: 'regime',
};

export interface BuiltKernel {
  readonly kernel: FeatureKernel;
  readonly needs: ExtraGroup | null;
}

function one(spec: FeatureSpec, def: string): string[] {
  return [spec.name ?? def];
}
function many(spec: FeatureSpec, def: string, suffixes: readonly string[]): string[] {
  return suffixes.map((s) => `${spec.name ?? def}_${s}`);
}

/** Builds the kernel of one spec; kernels of one engine share `w` (see shared.ts). */
export function buildKernel(s: FeatureSpec, w: SharedWindows = new SharedWindows()): BuiltKernel {
  const k = (kernel: FeatureKernel, needs: ExtraGroup | null = null): BuiltKernel => ({ kernel, needs });
  switch (s.kind) {
    case 'return': return k(new ReturnKernel(one(s, `return_${s.period}`), w.closeLags(s.period), s.period));
    case 'log_return': return k(new LogReturnKernel(one(s, `log_return_${s.period}`), w.returns(s.period)));
    case 'roc': return k(new ReturnKernel(one(s, `roc_${s.period}`), w.closeLags(s.period), s.period));
    case 'rsi': return k(new RsiKernel(one(s, `rsi_${s.period}`), s.period));
    case 'macd_hist': return k(new MacdHistKernel(one(s, `macd_hist_${s.fast}_${s.slow}_${s.signal}`), s.fast, s.slow, s.signal));
    case 'ma_crossover': return k(new MaCrossKernel(one(s, `ma_cross_${s.fast}_${s.slow}`), w.closes(s.fast), w.closes(s.slow)));
    case 'realized_vol': return k(new RealizedVolKernel(one(s, `realized_vol_${s.period}`), w.returns(s.period)));
    case 'bb_position': return k(new BollingerKernel(one(s, `bb_position_${s.period}`), w.closes(s.period), s.stdDev));
    case 'atr_ratio': return k(new AtrRatioKernel(one(s, `atr_ratio_${s.period}`), s.period));
    case 'volume_ratio': return k(new VolumeRatioKernel(one(s, `volume_ratio_${s.period}`), w.volumes(s.period)));
    case 'volume_trend': return k(new VolumeTrendKernel(one(s, `volume_trend_${s.short}_${s.long}`), w.volumes(s.short), w.volumes(s.long)));
    case 'body_ratio':
    case 'upper_shadow':
    case 'lower_shadow':
    case 'range_pct':
    case 'close_position': return k(new CandleShapeKernel(one(s, s.kind), s.kind));
    case 'trend_strength': return k(new TrendSlopeKernel(one(s, `trend_strength_${s.period}`), w.closes(s.period)));
    case 'trend_consistency': return k(new UpShareKernel(one(s, `trend_consistency_${s.period}`), s.period));
    case 'return_skewness': return k(new ReturnMomentKernel(one(s, `return_skewness_${s.period}`), w.returns(s.period), 'skew'));
    case 'return_kurtosis': return k(new ReturnMomentKernel(one(s, `return_kurtosis_${s.period}`), w.returns(s.period), 'kurt'));
    case 'parkinson_vol': return k(new RangeVolKernel(one(s, `parkinson_vol_${s.period}`), s.period, 'parkinson'));
    case 'garman_klass_vol': return k(new RangeVolKernel(one(s, `garman_klass_vol_${s.period}`), s.period, 'gk'));
    case 'stochastic': return k(new StochasticKernel([`${s.name ?? 'stoch'}_k_${s.period}`, `${s.name ?? 'stoch'}_d_${s.period}_${s.signal}`], w.highLow(s.period), s.signal));
    case 'cci': return k(new CciKernel(one(s, `cci_${s.period}`), s.period));
    case 'williams_r': return k(new WilliamsRKernel(one(s, `williams_r_${s.period}`), w.highLow(s.period)));
    case 'adx': return k(new AdxKernel([s.name ?? `adx_${s.period}`, `${s.name ?? 'di'}_diff_${s.period}`], s.period));
    case 'obv_change': return k(new ObvChangeKernel(one(s, `obv_change_${s.period}`), w.volumes(s.period)));
    case 'mfi': return k(new MfiKernel(one(s, `mfi_${s.period}`), s.period));
    case 'vwap_dev': return k(new VwapDevKernel(one(s, `vwap_dev_${s.period}`), w.volumes(s.period)));
    case 'dist_sma': return k(new DistMaKernel(one(s, `dist_sma_${s.period}`), w.closes(s.period)));
    case 'dist_ema': return k(new DistMaKernel(one(s, `dist_ema_${s.period}`), s.period));
    case 'vol_of_vol': return k(new VolOfVolKernel(one(s, `vol_of_vol_${s.volPeriod}_${s.period}`), w.returns(s.volPeriod), s.period));
    case 'log_ewma_vol': return k(new LogEwmaVolKernel(one(s, `log_ewma_vol_${Math.round(s.lambda * 1000)}`), s.lambda));
    case 'max_drawdown': return k(new MaxDrawdownKernel(one(s, `max_drawdown_${s.period}`), s.period));
    case 'trend_tstat': return k(new TrendTStatKernel(one(s, `trend_tstat_${s.period}`), s.period));
    case 'regime_hmm': return k(new RegimeHmmKernel(REGIMES.map((r) => `${s.name ?? `regime_hmm_${s.period}`}_${r}`), s.period, s.shortBars, s.hmm));
    case 'median_log_range': return k(new MedianLogRangeKernel(one(s, `median_log_range_${s.period}${s.lag ? `_lag${s.lag}` : ''}`), s.period, s.lag));
    case 'hour_of_day': return k(new HourOfDayKernel(many(s, 'hour', ['sin', 'cos'])));
    case 'day_of_week': return k(new DayOfWeekKernel(many(s, 'dow', ['sin', 'cos'])));
    case 'ob_spread': return k(new SpreadKernel(one(s, 'ob_spread_bps')), 'orderbook');
    case 'ob_imbalance': return k(new DepthImbalanceKernel(one(s, `ob_imbalance_${s.levels}`), s.levels), 'orderbook');
    case 'trade_flow': return k(new TradeFlowKernel(one(s, `trade_flow_${s.windowBars}`), s.windowBars), 'trades');
    case 'funding_rate': return k(new FundingRateKernel(one(s, 'funding_rate')), 'funding');
    case 'funding_change': return k(new ExtraChangeKernel(one(s, `funding_change_${s.lookbackBars}`), s.lookbackBars, 'funding'), 'funding');
    case 'oi_change': return k(new ExtraChangeKernel(one(s, `oi_change_${s.lookbackBars}`), s.lookbackBars, 'oi'), 'openInterest');
  }
}

/** Column names of a config in output order; throws a ConfigError on a duplicate name. */
export function featureNames(config: FeatureSetConfig): string[] {
  const names: string[] = [];
  const seen = new Map<string, number>();
  config.features.forEach((spec, i) => {
    for (const n of buildKernel(spec).kernel.names) {
      if (seen.has(n)) {
        throw new ConfigError(`duplicate feature name '${n}' (also from features[${seen.get(n)}]); give one a distinct "name"`, `features[${i}]`);
      }
      seen.set(n, i);
      names.push(n);
    }
  });
  return names;
}
