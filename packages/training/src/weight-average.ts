/**
 * An exponential moving average of the trained weights (Polyak averaging; the "EMA" of timm and
 * TensorFlow's ExponentialMovingAverage): after every optimiser step
 *
 *   avg = d_t * avg + (1 - d_t) * w,   d_t = min(decay, (1 + t) / (10 + t)),
 *
 * t the number of updates so far (the warm-up keeps the average from clinging to the initial
 * weights, as TensorFlow's num_updates does). The average is kept in float32 arrays beside the
 * variables (the update is a plain loop, read from the backend's memory without a copy on cpu and
 * wasm); trainMultiTask puts `values()` into the variables to validate, early-stop and end on the
 * averaged weights when `training.emaDecay` is set (and its raw weights back before the next step).
 */
import { KernelRunner, type tf } from '@task-agnostic/tf';
import { tensorValues } from './collective.js';

/** A serialisable average: the update count and one array per variable (the constructor's order). */
export interface WeightAverageState {
  readonly updates: number;
  readonly values: readonly Float32Array[];
}

export class WeightAverage {
  private t = 0;
  private readonly avg: Float32Array[];

  constructor(
    readonly variables: readonly tf.Variable[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`WeightAverage: decay must be in (0, 1), got ${decay}`);
    for (const v of variables) if (v.dtype !== 'float32') throw new RangeError(`WeightAverage: variable ${v.name} is ${v.dtype}; only float32 weights are averaged`);
    this.avg = variables.map((v) => new Float32Array(v.dataSync() as Float32Array));
  }

  /** Updates so far. */
  get updates(): number {
    return this.t;
  }

  /** The decay the next update uses: min(decay, (1 + t) / (10 + t)). */
  nextDecay(): number {
    return Math.min(this.decay, (1 + this.t) / (10 + this.t));
  }

  /** Folds the variables' current values into the average (call after each optimiser step). */
  update(): void {
    const d = this.nextDecay();
    const c = 1 - d;
    const runner = KernelRunner.forCurrentBackend();
    this.variables.forEach((v, i) => {
      const w = tensorValues(runner, v);
      const a = this.avg[i]!;
      for (let k = 0; k < a.length; k++) a[k] = d * a[k]! + c * w[k]!;
    });
    this.t += 1;
  }

  /** Copies of the averaged values (the constructor's variable order). */
  values(): Float32Array[] {
    return this.avg.map((a) => new Float32Array(a));
  }

  getState(): WeightAverageState {
    return { updates: this.t, values: this.values() };
  }

  setState(s: WeightAverageState): void {
    if (!(Number.isInteger(s.updates) && s.updates >= 0)) throw new RangeError(`WeightAverage.setState: ${s.updates} updates`);
    if (s.values.length !== this.avg.length) throw new RangeError(`WeightAverage.setState: state holds ${s.values.length} arrays, the average ${this.avg.length}`);
    s.values.forEach((v, i) => {
      if (v.length !== this.avg[i]!.length) throw new RangeError(`WeightAverage.setState: array ${i} holds ${v.length} values, its variable ${this.avg[i]!.length}`);
    });
    s.values.forEach((v, i) => this.avg[i]!.set(v));
    this.t = s.updates;
  }
}
