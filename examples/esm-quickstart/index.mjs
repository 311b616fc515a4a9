// ESM: a synthetic market, its features, an untrained model's first predictions, and a naive
// momentum backtest. Run: npm install && npm run example
import { generateSyntheticMarket } from '@task-agnostic/core';
import { DEFAULT_FEATURE_SET, Normalizer, computeFeatures } from '@task-agnostic/features';
import { runSignalBacktest } from '@task-agnostic/backtest';
import { encoderPreset } from '@task-agnostic/encoders';
import { getTask } from '@task-agnostic/heads';
import { StreamingPredictor, TaskAgnosticModel, defaultComponents } from '@task-agnostic/model';
import { candleAt } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';

const { candles } = generateSyntheticMarket({ bars: 2_000, seed: 1 });
const features = computeFeatures(candles, DEFAULT_FEATURE_SET);
console.log(`features: ${features.cols} columns x ${features.rows} rows, warm-up ${features.warmup}`);

// 24-bar momentum, long or short the whole account.
const signal = new Float64Array(candles.length);
for (let t = 24; t < candles.length; t++) signal[t] = Math.sign(candles.close[t] - candles.close[t - 24]);
const bt = runSignalBacktest(candles, signal);
console.log(`momentum: return ${(bt.metrics.totalReturn * 100).toFixed(2)}%, ${bt.metrics.trades} trades`);

const backend = await initBackend({ quiet: true });
const trainEnd = 1_500;
const normalizer = Normalizer.fit(features, features.warmup, trainEnd);
const tasks = ['direction', 'volatility', 'regime'];
const taskStates = Object.fromEntries(tasks.map((id) => [id, getTask(id).fit(candles, trainEnd)]));
const model = TaskAgnosticModel.create(
  { windowLength: 32, encoder: encoderPreset('tiny'), tasks, seed: 7 },
  { normalizer, taskStates, components: defaultComponents },
);
const live = new StreamingPredictor(model);
let last;
for (let i = 0; i < 300; i++) last = live.onCandle(candleAt(candles, i)) ?? last;
if (!last) throw new Error('the streaming predictor never warmed up');
const d = last.outputs.direction;
console.log(`backend ${backend.name}; untrained direction: up ${d.up.toFixed(3)} down ${d.down.toFixed(3)} sideways ${d.sideways.toFixed(3)}`);
