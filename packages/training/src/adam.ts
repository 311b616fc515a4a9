/**
 * Adam (Kingma & Ba 2015) with explicit, serialisable state. tfjs' own AdamOptimizer restores its
 * bias-correction accumulators with pow(beta, t) after a reload, which differs in the last bits from
 * the running product it keeps during training; a resumed run would then drift from an uninterrupted
 * one. Here the bias corrections are computed from the step count in float64 every step, and the
 * learning rate is a per-step argument (schedules set it).
 * With `weightDecay` > 0 it is AdamW (Loshchilov & Hutter 2019): decoupled decay
 * w -= lr * weightDecay * w on every variable of rank >= 2 (weight matrices and kernels; biases,
 * norms' gains and other vectors are not decayed).
 *
 * The update runs as one plain loop per variable over its values (read once, written once with
 * one `assign`), not as ~13 tensor ops per variable: on wasm each op costs engine bookkeeping and a
 * pass over memory, and the step of a ~100k-parameter model spent more time in that than in
 * arithmetic. Moments are kept as float32 (as tfjs' own optimiser keeps them); intermediate values
 * are float64, so results agree with the tensor-op formulation within float32 rounding.
 */
import { KernelRunner, tf } from '@task-agnostic/tf';
import { tensorValues } from './collective.js';

export interface AdamOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** Decoupled weight decay per unit learning rate (AdamW); 0 = plain Adam. */
  readonly weightDecay?: number;
}

export interface AdamStateTensors {
  readonly step: number;
  /** First and second moments in the order of the variables passed to the constructor. */
  readonly m: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(
    readonly variables: readonly tf.Variable[],
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new RangeError(`Adam: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.m = variables.map((x) => new Float32Array(x.size));
    this.v = variables.map((x) => new Float32Array(x.size));
  }

  get step(): number {
    return this.t;
  }

  /**
   * One update; `grads[i]` belongs to `variables[i]` (null = no gradient this step). `gradScale`
   * (default 1) multiplies every gradient value as it is read, in float32 as `tf.mul(g, gradScale)`
   * would (the same update to the bit), without a tensor per variable: gradient clipping passes
   * `clipScale(globalNorm(grads), maxNorm)` here.
   */
  apply(grads: readonly (tf.Tensor | null)[], learningRate: number, gradScale = 1): void {
    if (!(gradScale > 0) || !Number.isFinite(gradScale)) throw new RangeError(`Adam.apply: gradScale must be a positive finite number, got ${gradScale}`);
    if (grads.length !== this.variables.length) {
      throw new RangeError(`Adam.apply: ${grads.length} gradients for ${this.variables.length} variables`);
    }
    grads.forEach((g, i) => {
      if (g && g.size !== this.variables[i]!.size) throw new RangeError(`Adam.apply: gradient ${i} has ${g.size} values, its variable ${this.variables[i]!.size}`);
    });
    this.t += 1;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    const stepSize = learningRate / bc1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const eps = this.epsilon;
    const scaled = gradScale !== 1;
    const s32 = Math.fround(gradScale);
    const runner = KernelRunner.forCurrentBackend();
    for (let i = 0; i < grads.length; i++) {
      const g = grads[i];
      if (!g) continue;
      const w = this.variables[i]!;
      // cpu, wasm: the new weights are computed straight into a new backend record (no JS array,
      // no copy), which the variable then takes: an assign, so the variable gets a new dataId as
      // caches keyed on dataIds (the encoders' folded inference weights) expect
      const rec = runner && w.dtype === 'float32' ? runner.empty([...w.shape]) : null;
      const out = rec ? runner!.values(rec) : new Float32Array(w.size);
      // views of the backend's memory (cpu, wasm), taken after the allocation above and read
      // before the next one
      const gv = tensorValues(runner, g);
      const wv = tensorValues(runner, w);
      const m = this.m[i]!;
      const v = this.v[i]!;
      const keep = this.weightDecay > 0 && w.rank >= 2 ? 1 - learningRate * this.weightDecay : 1;
      for (let k = 0; k < out.length; k++) {
        // a float32 product rounded once: what the float32 kernel of tf.mul(g, gradScale) gives
        const gk = scaled ? Math.fround(gv[k]! * s32) : gv[k]!;
        m[k] = b1 * m[k]! + c1 * gk;
        v[k] = b2 * v[k]! + c2 * gk * gk;
        // from the stored (float32) moments, as the tensor-op formulation
        out[k] = wv[k]! * keep - (m[k]! / (Math.sqrt(v[k]! / bc2) + eps)) * stepSize;
      }
      if (rec) {
        const t = runner!.toTensor(rec);
        w.assign(t);
        t.dispose();
      } else tf.tidy(() => w.assign(tf.tensor(out, w.shape, 'float32')));
    }
  }

  getState(): AdamStateTensors {
    return {
      step: this.t,
      m: this.m.map((a) => new Float32Array(a)),
      v: this.v.map((a) => new Float32Array(a)),
    };
  }

  setState(s: AdamStateTensors): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new RangeError(`Adam.setState: state holds ${s.m.length} moments, optimiser has ${this.m.length}`);
    }
    this.t = s.step;
    for (let i = 0; i < this.m.length; i++) {
      const n = this.m[i]!.length;
      if (s.m[i]!.length !== n || s.v[i]!.length !== n) throw new RangeError(`Adam.setState: moment ${i} holds ${s.m[i]!.length} values, its variable ${n}`);
      this.m[i]!.set(s.m[i]!);
      this.v[i]!.set(s.v[i]!);
    }
  }

  /** Nothing to free: the moments are plain arrays (kept for callers that dispose optimisers). */
  dispose(): void {}
}
