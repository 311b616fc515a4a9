/**
 * How much room does the synthetic market leave the regime head over persistence, and how much of
 * it can a test split of the main job's length see?
 *
 *   node --import tsx tools/bench/src/regime-headroom.ts [--bars 36000] [--stride 9] [--seeds 42,7,1234]
 *
 * Per run seed S, the main job's two markets (seeds S*1000 and S*1000+1, the trainer's SYNTHA and
 * SYNTHB) split 70/15/15 as the quick preset does, the regime task's 'hmm' labels fitted on the first
 * 70% of bars (per market here; the main job pools both), and every stride-th row of the validation
 * and test ranges whose label (t, t+64] is formed. On those rows:
 * - the true regime switches of the generator and the label switches, and the classes present;
 * - persistence (the label of (t-64, t], the task's baseline) against the label: accuracy and macro-F1;
 * - the ORACLE: core's causal forward filter (filterSyntheticRegimes: the generator's own transition
 *   matrix and per-regime parameters, bars <= t only), its regime at t mapped to the label that regime
 *   most often has on the training rows. It knows more than any model trained on prices, so its
 *   margin over persistence bounds what the regime head can be asked to gain.
 * Nothing here is trained; it reads the generator's truth.
 */
import { filterSyntheticRegimes, generateSyntheticMarket } from '@task-agnostic/core';
import { regimeTask } from '@task-agnostic/heads';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const bars = Number(flag('bars') ?? 36_000);
const stride = Number(flag('stride') ?? 9);
const seeds = (flag('seeds') ?? '42,7,1234').split(',').map(Number);
const H = 64;
const K = 5;

const oneHot = (labels: readonly number[]): Float32Array => {
  const z = new Float32Array(labels.length * K).fill(-10);
  labels.forEach((l, i) => {
    z[i * K + l] = 10;
  });
  return z;
};

console.log(`${bars} bars per market, every ${stride}th row, label horizon ${H}`);
console.log('| seed | market | split | rows | true switches | label switches | classes | persistence acc / macro-F1 | oracle acc / macro-F1 | oracle - persistence macro-F1 |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const gaps: Record<string, number[]> = { validation: [], test: [] };
for (const seed of seeds) {
  for (const k of [0, 1]) {
    const m = generateSyntheticMarket({ bars, seed: seed * 1000 + k });
    const c = m.candles;
    const trainEnd = Math.floor(0.7 * bars);
    const valEnd = Math.floor(0.85 * bars);
    const task = regimeTask({ labeller: 'hmm', horizon: H });
    const l = task.labels(c, task.fit(c, trainEnd)).targets;
    const filtered = filterSyntheticRegimes(m).map;
    // each filtered regime -> its most frequent label on the training rows
    const counts = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    for (let t = 500; t + H < trainEnd; t++) counts[filtered[t]!]![l[t]!]!++;
    const toLabel = counts.map((row) => row.indexOf(Math.max(...row)));
    for (const [split, from, to] of [
      ['validation', trainEnd, valEnd - H],
      ['test', valEnd, bars - H],
    ] as const) {
      const rows: number[] = [];
      for (let t = from; t < to; t += stride) rows.push(t);
      const y = rows.map((t) => l[t]!);
      const persistence = rows.map((t) => l[t - H]!);
      const oracle = rows.map((t) => toLabel[filtered[t]!]!);
      let trueSwitches = 0;
      for (let t = from + 1; t < to + H; t++) if (m.regimes[t] !== m.regimes[t - 1]) trueSwitches++;
      let labelSwitches = 0;
      for (let i = 1; i < y.length; i++) if (y[i] !== y[i - 1]) labelSwitches++;
      const yt = Float32Array.from(y);
      const score = (p: number[]) => task.metrics(oneHot(p), yt, rows.length);
      const sp = score(persistence);
      const so = score(oracle);
      gaps[split]!.push(so.macroF1! - sp.macroF1!);
      const f = (v: number | undefined) => (v ?? Number.NaN).toFixed(3);
      console.log(
        `| ${seed} | ${k === 0 ? 'SYNTHA' : 'SYNTHB'} | ${split} | ${rows.length} | ${trueSwitches} | ${labelSwitches} | ${new Set(y).size} | ${f(sp.accuracy)} / ${f(sp.macroF1)} | ${f(so.accuracy)} / ${f(so.macroF1)} | ${(so.macroF1! - sp.macroF1!).toFixed(3)} |`,
      );
    }
  }
}
for (const [split, g] of Object.entries(gaps)) {
  const mean = g.reduce((a, b) => a + b, 0) / g.length;
  const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / (g.length - 1));
  console.log(`${split}: oracle - persistence macro-F1 over ${g.length} markets: mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)}, min ${Math.min(...g).toFixed(3)}, ${g.filter((v) => v > 0).length} of ${g.length} above 0`);
}
