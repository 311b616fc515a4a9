/**
 * The task head of the source design ("tiny MLP", TaskHead = Linear(repr, hidden) -> ReLU ->
 * Linear(hidden, out)): embedding D -> 64 (ReLU) -> outputDim, as tf.Variables with seeded
 * Glorot-uniform kernels and zero biases.
 */
import { ConfigError, DataError, Rng } from '@task-agnostic/core';
import { glorotUniform, tf } from '@task-agnostic/tf';
import type { Head } from './task.js';

/** Hidden width of every head (source design: hidden_dim of TaskHead; 64 as in its encoder's first layer). */
export const HEAD_HIDDEN_UNITS = 64;

export interface MlpHeadOptions {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seed: number;
  /** Variable name prefix, e.g. 'heads/direction'. Made unique with a numeric suffix if already registered. */
  readonly name: string;
  readonly hiddenUnits?: number;
}

function uniquePrefix(name: string): string {
  const registered = tf.engine().registeredVariables;
  if (!(`${name}/dense1/kernel` in registered)) return name;
  for (let i = 1; ; i++) if (!(`${name}_${i}/dense1/kernel` in registered)) return `${name}_${i}`;
}

export function createMlpHead(options: MlpHeadOptions): Head {
  const { inputDim, outputDim, seed, name } = options;
  const hidden = options.hiddenUnits ?? HEAD_HIDDEN_UNITS;
  if (!Number.isInteger(inputDim) || inputDim < 1) throw new ConfigError(`must be a positive integer, got ${inputDim}`, 'inputDim');
  if (!Number.isInteger(outputDim) || outputDim < 1) throw new ConfigError(`must be a positive integer, got ${outputDim}`, 'outputDim');
  if (!Number.isInteger(hidden) || hidden < 1) throw new ConfigError(`must be a positive integer, got ${hidden}`, 'hiddenUnits');
  if (!Number.isFinite(seed)) throw new ConfigError(`must be a finite number, got ${seed}`, 'seed');
  const rng = new Rng(seed).split(`head:${name}`);
  const prefix = uniquePrefix(name);
  const init = (shape: [number, number], s: number): tf.Tensor =>
    glorotUniform(shape, s);
  const k1 = init([inputDim, hidden], rng.seedInt());
  const k2 = init([hidden, outputDim], rng.seedInt());
  const z1 = tf.zeros([hidden]);
  const z2 = tf.zeros([outputDim]);
  const w1 = tf.variable(k1, true, `${prefix}/dense1/kernel`) as tf.Variable<tf.Rank.R2>;
  const b1 = tf.variable(z1, true, `${prefix}/dense1/bias`) as tf.Variable<tf.Rank.R1>;
  const w2 = tf.variable(k2, true, `${prefix}/dense2/kernel`) as tf.Variable<tf.Rank.R2>;
  const b2 = tf.variable(z2, true, `${prefix}/dense2/bias`) as tf.Variable<tf.Rank.R1>;
  // The variables hold their own copies: the initial values are released here.
  for (const t of [k1, k2, z1, z2]) t.dispose();
  let disposed = false;
  return {
    inputDim,
    outputDim,
    variables: [w1, b1, w2, b2],
    apply(embedding: tf.Tensor2D): tf.Tensor2D {
      if (disposed) throw new DataError(`head ${prefix} was disposed`);
      if (embedding.rank !== 2 || embedding.shape[1] !== inputDim) {
        throw new DataError(`head ${prefix}: expected an embedding of shape [N, ${inputDim}], got [${embedding.shape.join(', ')}]`);
      }
      return tf.tidy(() => {
        const h = tf.relu(tf.add(tf.matMul(embedding, w1), b1));
        return tf.add(tf.matMul(h, w2), b2) as tf.Tensor2D;
      });
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      for (const v of [w1, b1, w2, b2]) v.dispose();
    },
  };
}
