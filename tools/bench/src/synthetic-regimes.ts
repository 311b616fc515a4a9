/**
 * How identifiable are the synthetic market's regimes, and how realistic is the market?
 *
 *   node --import tsx tools/bench/src/synthetic-regimes.ts [--options '{"meanRegimeBars":720}'] [--bars 40000]
 *
 * Per seed (42000, 42001 = the main job's SYNTHA/SYNTHB, and 7000):
 * - realism: the calibration columns of core's README (std per bar, excess kurtosis, ACF(r,1),
 *   ACF(|r|,1), ACF(|r|,24), 24-bar realised vol quantiles, 3-week |move| median/q90, mean high-low range);
 * - the ORACLE (core's filterSyntheticRegimes): a causal forward filter (no future) over the five
 *   regimes with the generator's own transition matrix, per-regime drift/vol, Student-t emissions and
 *   causally tracked GARCH; 'oracle+garch' also knows the true volatility of each bar (generous). It
 *   ignores the reversion term (conservative). Its MAP regime at t is scored against the regime of the forward
 *   window (t, t+64] (what the main job scores the regime head against) and the regime at t;
 * - the regime LABELS the trainer's preset trains on (rules and hmm labellers, fitted on the first
 *   70% of bars) against the same forward truth on the last 30%.
 */
import { autocorrelation, filterSyntheticRegimes, excessKurtosis, generateSyntheticMarket, logReturns, type SyntheticMarketOptions } from '@task-agnostic/core';
import { regimeTask } from '@task-agnostic/heads';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const extra = JSON.parse(flag('options') ?? '{}') as SyntheticMarketOptions;
const bars = Number(flag('bars') ?? 40_000);
const seeds = (flag('seeds') ?? '42000,42001,7000').split(',').map(Number);
const H = 64;
const labelCfg = JSON.parse(flag('label') ?? '{"trendZ":0.75,"volQuantiles":[0.15,0.8]}') as Record<string, unknown>;

function forwardTrue(reg: Uint8Array, t: number, h: number): number {
  const c = new Array<number>(5).fill(0);
  for (let k = t + 1; k <= t + h; k++) c[reg[k]!]!++;
  let b = 0;
  for (let j = 1; j < 5; j++) if (c[j]! > c[b]!) b = j;
  return b;
}

function quantile(x: number[], q: number): number {
  const s = [...x].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}


const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
console.log(`options ${JSON.stringify(extra)}, ${bars} bars per seed, labels ${JSON.stringify(labelCfg)}`);
console.log('| seed | std/bar | ex.kurt | ACF(r,1) | ACF(|r|,1) | ACF(|r|,24) | rv24 q10/q50/q90 | 3w |move| med/q90 | hl range | mean spell | oracle fwd64 / now | oracle+garch fwd64 / now | rules fwd64 | hmm fwd64 |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const seed of seeds) {
  const m = generateSyntheticMarket({ ...extra, bars, seed });
  const c = m.candles;
  const r = logReturns(c.close).subarray(1); // r[i-1] = return of bar i
  const sd = Math.sqrt(r.reduce((a, v) => a + v * v, 0) / r.length);
  const abs = Float64Array.from(r, Math.abs);
  const rv24: number[] = [];
  for (let i = 0; i + 24 <= r.length; i += 24) {
    let s = 0;
    for (let k = i; k < i + 24; k++) s += r[k]! ** 2;
    rv24.push(Math.sqrt(s / 24));
  }
  const moves: number[] = [];
  for (let i = 0; i + 504 < c.length; i += 504) moves.push(Math.abs(Math.log(c.close[i + 504]! / c.close[i]!)));
  let hl = 0;
  for (let i = 0; i < c.length; i++) hl += Math.log(c.high[i]! / c.low[i]!);
  let runs = 1;
  for (let i = 1; i < m.regimes.length; i++) if (m.regimes[i] !== m.regimes[i - 1]) runs++;

  // the oracle forward filter (core's filterSyntheticRegimes), scored from bar 500 on
  const oracle = (knownVolatility: boolean) => {
    const f = filterSyntheticRegimes(m, { knownVolatility });
    let okF = 0;
    let okN = 0;
    let n = 0;
    for (let i = 500; i + H < c.length; i++) {
      n++;
      if (f.map[i] === forwardTrue(m.regimes, i, H)) okF++;
      if (f.map[i] === m.regimes[i]) okN++;
    }
    return `${pct(okF / n)} / ${pct(okN / n)}`;
  };
  const labelAgreement = (labeller: 'rules' | 'hmm') => {
    const task = regimeTask({ horizon: H, ...labelCfg, labeller });
    const trainEnd = Math.floor(0.7 * c.length);
    const state = task.fit(c, trainEnd);
    const l = task.labels(c, state);
    let ok = 0;
    let n = 0;
    for (let t = trainEnd; t + H < c.length; t++) {
      n++;
      if (l.targets[t] === forwardTrue(m.regimes, t, H)) ok++;
    }
    return pct(ok / n);
  };
  console.log(
    `| ${seed} | ${pct(sd)} | ${excessKurtosis(r).toFixed(1)} | ${autocorrelation(r, 1).toFixed(3)} | ${autocorrelation(abs, 1).toFixed(3)} | ${autocorrelation(abs, 24).toFixed(3)} | ${[0.1, 0.5, 0.9].map((q) => pct(quantile(rv24, q))).join(' / ')} | ${pct(quantile(moves, 0.5))} / ${pct(quantile(moves, 0.9))} | ${pct(hl / c.length)} | ${(m.regimes.length / runs).toFixed(0)} | ${oracle(false)} | ${oracle(true)} | ${labelAgreement('rules')} | ${labelAgreement('hmm')} |`,
  );
}
