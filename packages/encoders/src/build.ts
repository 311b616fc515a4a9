/** buildEncoder: config + input shape + seed -> an Encoder (validated config, seeded weights). */
import { ConfigError } from '@task-agnostic/core';
import { installFastMatMul, tf } from '@task-agnostic/tf';
import { type EncoderConfig, parseEncoderConfig } from './config.js';
import type { Encoder } from './encoder.js';
import { TransformerEncoder } from './transformer.js';
import { CnnEncoder } from './cnn.js';
import { MoeEncoder } from './moe.js';
import { MlpEncoder } from './mlp.js';

export function buildEncoder(config: EncoderConfig, inputShape: readonly [number, number], seed: number): Encoder {
  const c = parseEncoderConfig(config);
  const [t, f] = inputShape;
  if (!Number.isInteger(t) || t <= 0 || !Number.isInteger(f) || f <= 0) {
    throw new ConfigError(`inputShape must be [T, F] with positive integers, got [${inputShape.join(', ')}]`, 'inputShape');
  }
  if (!Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number, got ${seed}`, 'seed');
  // Backend-wide wasm speed lever (idempotent); a no-op where the wasm kernels are absent.
  if (tf.findBackend('wasm') || tf.getKernel('BatchMatMul', 'wasm')) installFastMatMul('wasm');
  switch (c.type) {
    case 'transformer':
      return new TransformerEncoder(c, inputShape, seed);
    case 'cnn':
      return new CnnEncoder(c, inputShape, seed);
    case 'moe':
      return new MoeEncoder(c, inputShape, seed);
    case 'mlp':
      return new MlpEncoder(c, inputShape, seed);
  }
}
