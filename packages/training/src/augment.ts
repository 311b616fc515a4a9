/**
 * Training-time augmentation: Gaussian noise on the normalised input windows (a classic
 * regulariser, equivalent to a ridge penalty on the input weights for a linear model: Bishop 1995).
 * Only training batches are noised; validation and test windows never are.
 */
import type { Rng } from '@task-agnostic/core';
import type { MultiTaskBatch } from './step.js';

/** Adds N(0, std^2) noise to every input value of a batch, in place (the batch owns its x); returns it. */
export function withInputNoise(batch: MultiTaskBatch, std: number, rng: Rng): MultiTaskBatch {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`input noise std must be a finite number >= 0, got ${std}`);
  if (std === 0) return batch;
  const x = batch.x;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + std * rng.normal();
  return batch;
}
