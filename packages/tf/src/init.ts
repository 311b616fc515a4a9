import { tf } from './tfjs.js';

/** Keras' fan computation (tfjs-layers `computeFans`, channels-last) for a weight of this shape. */
export function computeFans(shape: readonly number[]): [fanIn: number, fanOut: number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  if (shape.length >= 3 && shape.length <= 5) {
    let receptive = 1;
    for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i]!;
    return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return [Math.sqrt(n), Math.sqrt(n)];
}

/**
 * Glorot (Xavier) uniform initial values: U(-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)).
 * The same numbers as tfjs-layers' `tf.initializers.glorotUniform({ seed }).apply(shape)` (which
 * this toolkit no longer installs: only tfjs-core is a dependency), so seeded models are unchanged.
 */
export function glorotUniform(shape: readonly number[], seed?: number): tf.Tensor {
  const [fanIn, fanOut] = computeFans(shape);
  const scale = 1 / Math.max(1, (fanIn + fanOut) / 2);
  const limit = Math.sqrt(3 * scale);
  return tf.randomUniform([...shape], -limit, limit, 'float32', seed);
}
