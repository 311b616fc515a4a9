import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, Rng } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { buildDataset } from './dataset.js';
import { parsePretrainConfig, pretrainEncoder, sslSourcesFromDataset } from './pretrain.js';
import { orderPairs, positivesOf, sampleAnchors, sampleMask, applyMask } from './ssl-sampler.js';
import { fakeEncoder, fakeForwardReturnTask, fakePipeline } from './test-doubles.js';

const W = 12;
const mkt = generateSyntheticMarket({ bars: 1500, seed: 5 });
const mkt2 = generateSyntheticMarket({ bars: 1200, seed: 6, symbol: 'OTHER' });
const ds = buildDataset([{ symbol: 'A', candles: mkt.candles }, { symbol: 'B', candles: mkt2.candles }], [fakeForwardReturnTask(1)], fakePipeline(), { windowLength: W });
const src = sslSourcesFromDataset(ds);

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('self-supervised sampling', () => {
  it('draws only inside the split, masks exactly 30% of steps, pairs and positives as specified', () => {
    const rng = new Rng(1);
    // training windows and their next bar end before trainEnd; validation ones start after the purge gap
    src.train.ranges.forEach((r, s) => expect(r.maxEnd + 1).toBeLessThan(ds.boundaries[s]!.trainEnd));
    src.val.ranges.forEach((r, s) => expect(r.minEnd - W + 1).toBeGreaterThan(ds.boundaries[s]!.trainEnd));
    const anchors = sampleAnchors(src.train, 64, 2 * W, rng);
    for (const a of anchors) {
      const r = src.train.ranges[a.series]!;
      expect(a.end).toBeGreaterThanOrEqual(r.minEnd);
      expect(a.end).toBeLessThanOrEqual(r.maxEnd);
    }
    expect(new Set(anchors.map((a) => a.series)).size).toBe(2);
    const mask = sampleMask(10, 20, 0.3, rng);
    for (let i = 0; i < 10; i++) expect(mask.subarray(i * 20, (i + 1) * 20).reduce((a, b) => a + b, 0)).toBe(6);
    const x = new Float32Array(20 * 2).fill(1);
    const xm = applyMask(x, mask.subarray(0, 20), 20, 2);
    expect(xm.reduce((a, b) => a + b, 0)).toBe(40 - 12);
    const pos = positivesOf(src.train, anchors, 3, rng);
    pos.forEach((p, i) => {
      expect(p.series).toBe(anchors[i]!.series);
      expect(Math.abs(p.end - anchors[i]!.end)).toBeLessThanOrEqual(3);
    });
    const pairs = orderPairs(src.train, anchors, W, 4 * W, rng);
    pairs.label.forEach((l, i) => {
      expect(pairs.first[i]!.series).toBe(pairs.second[i]!.series);
      expect(l).toBe(pairs.first[i]!.end < pairs.second[i]!.end ? 1 : 0);
    });
    expect(pairs.label.reduce((a, b) => a + b, 0)).toBeGreaterThan(15);
    expect(pairs.label.reduce((a, b) => a + b, 0)).toBeLessThan(49);
  });
});

describe('pretrainEncoder', () => {
  it('every objective, alone and combined, lowers its validation loss; no tensor leaks', async () => {
    const enc = fakeEncoder(W, 2, 16, 3);
    const before = tf.memory().numTensors;
    const r = await pretrainEncoder(enc, src, { epochs: 5, stepsPerEpoch: 15, batchSize: 32, learningRate: 0.01, warmupSteps: 5, progress: false, valBatches: 3 });
    const h = r.history;
    expect(h.length).toBe(5);
    for (const k of ['masked', 'contrastive', 'order', 'next-step'] as const) {
      expect(h[4]!.val[k], k).toBeLessThan(h[0]!.val[k]!);
    }
    // contrastive: better than chance (log batch size) at picking the positive
    expect(h[4]!.val.contrastive!).toBeLessThan(Math.log(32));
    expect(new Set(h.map((e) => e.numTensors)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    enc.dispose();
  });

  it('stops when the reconstruction target is met, and validates its config', async () => {
    const enc = fakeEncoder(W, 2, 8, 4);
    const r = await pretrainEncoder(enc, src, { objectives: ['masked'], epochs: 10, stepsPerEpoch: 5, batchSize: 16, progress: false }, { stopAtReconstructionLoss: 100 });
    expect(r.history.length).toBe(1);
    expect(r.reachedReconstructionTarget).toBe(true);
    expect(Object.keys(r.history[0]!.val)).toEqual(['masked']);
    enc.dispose();
    expect(() => parsePretrainConfig({ objectives: ['telepathy'] })).toThrow(/pretrain\.objectives\.0/);
    expect(() => parsePretrainConfig({ maskRatio: 1.5 })).toThrow(/pretrain\.maskRatio/);
  });
});

describe('sslSourcesFromDataset with validation blocks', () => {
  it('keeps every training window and its next bar out of the blocks, and validates on them', () => {
    const c = generateSyntheticMarket({ bars: 700, seed: 5 }).candles;
    const W = 16;
    const blocks = [{ start: 150, end: 230 }, { start: 400, end: 470 }];
    const d = buildDataset([{ symbol: 'S', candles: c }], [fakeForwardReturnTask(4)], fakePipeline(), { windowLength: W }, [{ trainEnd: 550, valEnd: 620, valBlocks: blocks }]);
    const s = sslSourcesFromDataset(d);
    expect(s.train.ranges).toHaveLength(3);
    expect(s.val.ranges).toHaveLength(3);
    expect(s.train.matrices.every((m) => m === d.matrices[0])).toBe(true);
    for (const r of s.train.ranges) {
      for (const b of blocks) expect(r.maxEnd + 1 < b.start || r.minEnd - W + 1 >= b.end).toBe(true);
      expect(r.maxEnd + 1).toBeLessThan(550);
    }
    expect(s.val.ranges.slice(0, 2).map((r) => [r.minEnd, r.maxEnd])).toEqual(blocks.map((b) => [b.start + d.purgeGap, b.end - 2]));
    // anchors sampled from the training source never land in a block
    const anchors = sampleAnchors(s.train, 200, 1, new Rng(3));
    for (const a of anchors) for (const b of blocks) expect(a.end + 1 < b.start || a.end - W + 1 >= b.end).toBe(true);
  });
});
