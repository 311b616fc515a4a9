import {
  REGIMES,
  autocorrelation,
  barsPerYear,
  excessKurtosis,
  generateSyntheticMarket,
  logReturns,
  std,
  validateCandles,
  type SyntheticMarketOptions,
} from '@task-agnostic/core';

export interface SyntheticSummary {
  readonly symbol: string;
  readonly bars: number;
  readonly fromIso: string;
  readonly toIso: string;
  readonly firstClose: number;
  readonly lastClose: number;
  readonly annualisedVol: number;
  readonly excessKurtosis: number;
  readonly absReturnAcf1: number;
  readonly regimeShare: Readonly<Record<string, number>>;
  readonly validationIssues: number;
}

/** Generates the built-in synthetic market, validates it and summarises its statistics. */
export function summariseSyntheticMarket(options: SyntheticMarketOptions = {}): SyntheticSummary {
  const m = generateSyntheticMarket(options);
  const c = m.candles;
  const report = validateCandles(c, { interval: m.interval });
  const r = logReturns(c.close).subarray(1);
  const share: Record<string, number> = {};
  for (let k = 0; k < REGIMES.length; k++) share[REGIMES[k]!] = 0;
  for (const g of m.regimes) share[REGIMES[g]!]! += 1 / m.regimes.length;
  return {
    symbol: m.symbol,
    bars: c.length,
    fromIso: new Date(c.tsMs[0]!).toISOString(),
    toIso: new Date(c.tsMs[c.length - 1]!).toISOString(),
    firstClose: c.close[0]!,
    lastClose: c.close[c.length - 1]!,
    annualisedVol: std(r) * Math.sqrt(barsPerYear(m.interval)),
    excessKurtosis: excessKurtosis(r),
    absReturnAcf1: autocorrelation(Float64Array.from(r, Math.abs), 1),
    regimeShare: share,
    validationIssues: report.issues.length,
  };
}

export function formatSyntheticSummary(s: SyntheticSummary): string {
  const regimes = Object.entries(s.regimeShare)
    .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
    .join(', ');
  return [
    `Synthetic market ${s.symbol}: ${s.bars} bars, ${s.fromIso} .. ${s.toIso}`,
    `  close ${s.firstClose.toFixed(2)} -> ${s.lastClose.toFixed(2)}; annualised volatility ${(s.annualisedVol * 100).toFixed(1)}%`,
    `  excess kurtosis ${s.excessKurtosis.toFixed(2)}; autocorrelation of |returns| at lag 1 ${s.absReturnAcf1.toFixed(3)}`,
    `  regimes: ${regimes}`,
    `  validation: ${s.validationIssues === 0 ? 'no issues' : `${s.validationIssues} issues`}`,
  ].join('\n');
}
