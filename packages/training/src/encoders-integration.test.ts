// Every encoder type of @task-agnostic/encoders trains with the per-task harmonisers in both
// gradient modes (real encoder, real heads): finite losses, weights move, no tensor growth.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { buildEncoder, encoderPreset, ENCODER_TYPES } from '@task-agnostic/encoders';
import { getTask } from '@task-agnostic/heads';
import { initBackend, tf } from '@task-agnostic/tf';
import { Adam } from './adam.js';
import { Harmoniser } from './harmoniser.js';
import { clipByGlobalNorm, computeStepGradients, trainableVariablesOf } from './step.js';
import type { TrainableEncoder, TrainableTask } from './contracts.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('real encoders x harmonisers x gradient modes', () => {
  for (const type of ENCODER_TYPES) {
    it(`${type}: GradNorm and PCGrad steps in both modes`, () => {
      const T = 16, F = 5, N = 8;
      const encoder = buildEncoder(encoderPreset('tiny', type), [T, F], 1) as unknown as TrainableEncoder & { dispose(): void };
      const tasks = [getTask('volatility'), getTask('direction')] as unknown as TrainableTask[];
      const heads = tasks.map((t, i) => t.buildHead(encoder.outputDim, 3 + i));
      const parts = { encoder, tasks, heads };
      const rng = new Rng(1);
      const batch = {
        x: Float32Array.from({ length: N * T * F }, () => rng.normal()),
        n: N,
        targets: [Float32Array.from({ length: N }, () => rng.normal()), Float32Array.from({ length: N }, () => rng.int(3))],
        targetDims: [1, 1],
      };
      const adam = new Adam(trainableVariablesOf(parts));
      const w0 = Array.from(encoder.lastSharedWeights.dataSync());
      const counts: number[] = [];
      for (const name of ['gradnorm', 'pcgrad'] as const) {
        for (const mode of ['parameter', 'representation'] as const) {
          const h = new Harmoniser({ name }, tasks.map((t) => t.kind));
          const r = computeStepGradients(parts, batch, h, mode, new Rng(2));
          expect(r.losses.every(Number.isFinite), `${name}/${mode}`).toBe(true);
          if (name === 'gradnorm') expect(r.gradNorms!.every((g) => g > 0), `${name}/${mode} norms`).toBe(true);
          const c = clipByGlobalNorm(r.grads, 1);
          adam.apply(c.grads, 1e-3);
          tf.dispose(c.grads.filter((g): g is tf.Tensor => g !== null));
          h.afterStep(r.losses, r.gradNorms);
          counts.push(tf.memory().numTensors);
        }
      }
      // the MoE encoder keeps its last auxiliary loss / usage tensors (owned by it until the next
      // apply), so the count may rise once at the first step; it must not grow after that
      expect(new Set(counts).size, counts.join(' ')).toBe(1);
      expect(Array.from(encoder.lastSharedWeights.dataSync())).not.toEqual(w0);
      adam.dispose();
      heads.forEach((x) => x.dispose());
      encoder.dispose();
    });
  }
});
