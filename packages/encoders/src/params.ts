/**
 * Seeded, named parameter creation. Every encoder owns its variables through one ParamStore:
 * the order of creation is the stable order of `variables`, `names` are stable role names
 * (e.g. "layer0/attn/wqkv"), and the tfjs variable names carry a per-instance prefix so two
 * encoders can live in one process (tfjs variable names are global).
 */
import { tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';

let instanceCounter = 0;

export class ParamStore {
  readonly variables: tf.Variable[] = [];
  readonly names: string[] = [];
  private readonly prefix: string;

  constructor(
    private readonly rng: Rng,
    kind: string,
  ) {
    this.prefix = `${kind}_encoder_${instanceCounter++}`;
  }

  private add<R extends tf.Rank>(name: string, values: Float32Array, shape: number[], trainable: boolean): tf.Variable<R> {
    if (this.names.includes(name)) throw new Error(`duplicate parameter name ${name}`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable, `${this.prefix}/${name}`)) as unknown as tf.Variable<R>;
    this.variables.push(v);
    this.names.push(name);
    return v;
  }

  /**
   * Registers `value` as one variable under `name`, replacing `parts` (variables created just
   * before by this store, e.g. per-block initialisations), which are disposed and removed.
   */
  adopt<R extends tf.Rank>(name: string, value: tf.Tensor<R>, parts: readonly tf.Variable[]): tf.Variable<R> {
    for (const part of parts) {
      const i = this.variables.indexOf(part);
      if (i < 0) throw new Error('adopt: part not owned by this store');
      this.variables.splice(i, 1);
      this.names.splice(i, 1);
      part.dispose();
    }
    if (this.names.includes(name)) throw new Error(`duplicate parameter name ${name}`);
    const v = tf.variable(value, true, `${this.prefix}/${name}`) as tf.Variable<R>;
    value.dispose();
    this.variables.push(v);
    this.names.push(name);
    return v;
  }

  /** Glorot/Xavier-uniform weight [fanIn, fanOut], drawn from the store's seeded Rng. */
  weight(name: string, fanIn: number, fanOut: number): tf.Variable<tf.Rank.R2> {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const v = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < v.length; i++) v[i] = this.rng.uniform(-limit, limit);
    return this.add(name, v, [fanIn, fanOut], true);
  }

  /** A constant-filled vector (biases 0, layer-norm gains 1, batch-norm statistics). */
  fill(name: string, size: number, value: number, trainable = true): tf.Variable<tf.Rank.R1> {
    return this.add(name, new Float32Array(size).fill(value), [size], trainable);
  }

  /** A fresh seed for stochastic ops (dropout), deterministic in the store's seed. */
  nextSeed(): number {
    return this.rng.int(2147483647);
  }

  get trainable(): tf.Variable[] {
    return this.variables.filter((v) => v.trainable);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
