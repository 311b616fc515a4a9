import { describe, expect, it, beforeAll } from 'vitest';
import { generateSyntheticMarket, readCandlesCsvSync, SEPARATED_MARKET, sliceColumns } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { initBackend, tf } from '@task-agnostic/tf';
import { candleFile } from '@task-agnostic/test-utils';
import { asTrainableEncoder, trainModel, type TrainModelConfig } from './train-model.js';
import { evaluateSplit } from './evaluate.js';
import type { TrainableHead, TrainableTask } from './contracts.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const config = (seed: number, harmoniser: 'gradnorm' | 'loss-ratio' = 'gradnorm'): TrainModelConfig => ({
  model: { windowLength: 32, encoder: encoderPreset('tiny', 'mlp'), tasks: ['volatility', 'regime', 'direction'], seed },
  dataset: { valFraction: 0.2, testFraction: 0.2 },
  training: { epochs: 6, batchSize: 64, learningRate: 1e-3, harmoniser: { name: harmoniser }, progress: false, schedule: { type: 'cosine', warmupSteps: 10 }, earlyStopping: { patience: 10 } },
  // These tests are about training; calibration has its own (calibrate.test.ts).
  calibrate: false,
});

function report(r: Awaited<ReturnType<typeof trainModel>>): void {
  const h = r.history;
  console.log('initial', JSON.stringify(r.train?.initialValLoss), 'best epoch', r.train?.bestEpoch);
  const pick = (m: Record<string, number>) => JSON.stringify(Object.fromEntries(Object.entries(m).filter(([k]) => ['mse', 'accuracy', 'logLoss', 'qlike'].includes(k)).map(([k, v]) => [k, +v.toFixed(4)])));
  for (const id of Object.keys(h[0]!.valLoss)) {
    console.log(id, 'val', h.map((e) => e.valLoss[id]!.toFixed(4)).join(' '));
    for (const [sym, e] of Object.entries(r.test[id]!.bySeries)) console.log('  test', sym, 'model', pick(e.metrics), e.baselines.map((b) => `${b.name}:${pick(b.metrics)}`).join(' '));
  }
  console.log('epoch ms', h.map((e) => e.timeMs).join(' '));
}

/** On every symbol's test rows: volatility MSE below the training-mean forecast, regime log-loss below the training class frequencies. */
function beatsNaive(r: Awaited<ReturnType<typeof trainModel>>): void {
  for (const [sym, e] of Object.entries(r.test.volatility!.bySeries)) expect(e.metrics.mse, `volatility ${sym}`).toBeLessThan(e.baselines.find((b) => b.name === 'trainMean')!.metrics.mse!);
  for (const [sym, e] of Object.entries(r.test.regime!.bySeries)) expect(e.metrics.logLoss, `regime ${sym}`).toBeLessThan(e.baselines.find((b) => b.name === 'majority')!.metrics.logLoss!);
}

describe('trainModel on real packages', () => {
  it('synthetic market: validation loss falls for every task; beats the naive baselines on volatility and regime', async () => {
    // the strongly separated market: this proves the pipeline learns, not how learnable realistic regimes are
    const mkt = generateSyntheticMarket({ ...SEPARATED_MARKET, bars: 6000, seed: 11 });
    const before = tf.memory().numTensors;
    const calls: string[] = [];
    let seen: { ds: unknown; ids: string[] } | null = null;
    const r = await trainModel(config(1), [{ symbol: 'SYN', candles: mkt.candles }], {
      onDataset: (ds, tasks) => {
        calls.push('dataset');
        seen = { ds, ids: tasks.map((t) => t.id) };
      },
      onEpoch: () => {
        calls.push('epoch');
      },
    });
    report(r);
    // onDataset: once, with the dataset the model trained on and its tasks in target order, before the first epoch
    expect(calls[0]).toBe('dataset');
    expect(calls.filter((c) => c === 'dataset')).toHaveLength(1);
    expect(calls.filter((c) => c === 'epoch')).toHaveLength(r.history.length);
    expect(seen!.ds).toBe(r.dataset);
    expect(seen!.ids).toEqual([...r.dataset.taskIds]);
    const best = r.history[r.train!.bestEpoch]!;
    // the restored best epoch has a lower validation loss than the untrained model, for every task
    for (const id of ['volatility', 'regime', 'direction']) expect(best.valLoss[id], id).toBeLessThan(r.train!.initialValLoss[id]!);
    beatsNaive(r);
    // no tensor leaks across epochs (the count after each epoch stays put)
    expect(new Set(r.history.map((e) => e.numTensors)).size).toBe(1);
    r.model.dispose();
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(before);
  });

  const btc = candleFile('bybit_BTCUSDT_1h.csv');
  const eth = candleFile('bybit_ETHUSDT_1h.csv');
  it.skipIf(!btc || !eth)('real Bybit BTC + ETH 1h (last 8000 bars each): validation loss falls for every task; beats the naive baselines on volatility and regime', async () => {
    const load = (f: string) => {
      const c = readCandlesCsvSync(f).candles;
      return sliceColumns(c, c.length - 8000);
    };
    const r = await trainModel(config(2, 'loss-ratio'), [{ symbol: 'BTCUSDT', candles: load(btc!) }, { symbol: 'ETHUSDT', candles: load(eth!) }]);
    report(r);
    const best = r.history[r.train!.bestEpoch]!;
    for (const id of ['volatility', 'regime', 'direction']) expect(best.valLoss[id], id).toBeLessThan(r.train!.initialValLoss[id]!);
    beatsNaive(r);
    expect(new Set(r.history.map((e) => e.numTensors)).size).toBe(1);
    expect(r.dataset.train.seriesIds!.some((s) => s === 1)).toBe(true);
    r.model.dispose();
  });

  it('runs a curriculum (pre-train -> easy tasks -> all tasks) on the real packages', async () => {
    const mkt = generateSyntheticMarket({ bars: 3000, seed: 12 });
    const r = await trainModel(
      {
        model: { windowLength: 24, encoder: encoderPreset('tiny', 'mlp'), tasks: ['volatility', 'regime', 'direction'], seed: 3 },
        dataset: { stride: 2 },
        training: { batchSize: 64, learningRate: 1e-3, progress: false, harmoniser: { name: 'uncertainty' } },
        pretrain: { objectives: ['masked', 'contrastive'], stepsPerEpoch: 4, batchSize: 32, progress: false },
        curriculum: {
          phases: [
            { name: 'ssl', kind: 'pretrain', minEpochs: 1, maxEpochs: 1, transition: { type: 'epochs' } },
            { name: 'easy', kind: 'supervised', tasks: ['direction', 'regime'], taskWeights: { direction: 0.5, regime: 0.5 }, minEpochs: 1, maxEpochs: 2, transition: { type: 'metric', metric: 'accuracy', threshold: 0.01 } },
            { name: 'full', kind: 'supervised', tasks: ['direction', 'regime', 'volatility'], minEpochs: 1, maxEpochs: 2, transition: { type: 'convergence', patience: 0 } },
          ],
        },
      },
      [{ symbol: 'SYN', candles: mkt.candles }],
    );
    expect(r.phases!.map((p) => [p.name, p.epochs])).toEqual([['ssl', 1], ['easy', 1], ['full', r.phases![2]!.epochs]]);
    expect(r.phases![0]!.history[0]).toHaveProperty('val.masked');
    expect(Object.keys(r.history[0]!.valLoss)).toEqual(['direction', 'regime']);
    expect(Object.keys(r.history[r.history.length - 1]!.valLoss)).toEqual(['direction', 'regime', 'volatility']);
    expect(Object.keys(r.test)).toEqual(['volatility', 'regime', 'direction']);
    r.model.dispose();
  });
  it('refitHeads: the named head refitted on the frozen encoder, the encoder and other heads as without it; a bad task named before training', async () => {
    const mkt = generateSyntheticMarket({ bars: 3000, seed: 14 });
    const base: TrainModelConfig = { ...config(5), training: { ...config(5).training, epochs: 2 } };
    const plain = await trainModel(base, [{ symbol: 'SYN', candles: mkt.candles }]);
    const refit = await trainModel({ ...base, refitHeads: { tasks: ['volatility'], epochs: 4, learningRate: 3e-3 } }, [{ symbol: 'SYN', candles: mkt.candles }]);
    const vals = (r: typeof plain, id?: string) => (id ? (r.model.heads.get(id) as unknown as TrainableHead).variables : asTrainableEncoder(r.model.encoder).variables).map((v) => Array.from(v.dataSync()));
    expect(vals(refit)).toEqual(vals(plain));
    for (const id of ['regime', 'direction']) expect(vals(refit, id), id).toEqual(vals(plain, id));
    const [rep] = refit.refit!;
    expect(rep).toMatchObject({ task: 'volatility' });
    // losses on the validation windows, through the real encoder (with the task's state)
    const volLoss = (r: typeof plain) => {
      const i = r.model.tasks.findIndex((t) => t.id === 'volatility');
      const task = r.model.tasks[i] as unknown as TrainableTask;
      const parts = { encoder: asTrainableEncoder(r.model.encoder), tasks: [task], heads: [r.model.heads.get('volatility') as unknown as TrainableHead], taskStates: [r.model.taskStates.get('volatility')!] };
      return evaluateSplit(parts, { ...r.dataset.val, targets: [r.dataset.val.targets[i]!], targetDims: [r.dataset.val.targetDims[i]!] }, 256).losses[0]!;
    };
    expect(rep!.before).toBeCloseTo(volLoss(plain), 5);
    // two epochs of multi-task training leave the head short of its optimum on this representation (seeded: 0.1186 -> 0.1056)
    expect(rep!.kept).toBe('refit');
    expect(rep!.refit!).toBeLessThan(rep!.before * 0.95);
    expect(volLoss(refit)).toBeCloseTo(rep!.refit!, 5);
    expect(vals(refit, 'volatility')).not.toEqual(vals(plain, 'volatility'));
    expect(plain.refit).toBeUndefined();
    plain.model.dispose();
    refit.model.dispose();
    const epochs: number[] = [];
    await expect(trainModel({ ...base, refitHeads: { tasks: ['vol'] } }, [{ symbol: 'SYN', candles: mkt.candles }], { onEpoch: (e) => void epochs.push(e.epoch) })).rejects.toThrow(
      "refitHeads.tasks: the model has no task 'vol' (it has volatility, regime, direction)",
    );
    expect(epochs).toEqual([]);
  });
});
