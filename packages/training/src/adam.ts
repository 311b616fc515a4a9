/**
 * Adam (Kingma & Ba 2015) with explicit, serialisable state. tfjs' own AdamOptimizer restores its
 * bias-correction accumulators with pow(beta, t) after a reload, which differs in the last bits from
 * the running product it keeps during training; a resumed run would then drift from an uninterrupted
 * one. Here the bias corrections are computed from the step count in float64 every step, and the
 * learning rate is a per-step argument (schedules set it).
 * With `weightDecay` > 0 it is AdamW (Loshchilov & Hutter 2019): decoupled decay
 * w -= lr * weightDecay * w on every variable of rank >= 2 (weight matrices and kernels; biases,
 * norms' gains and other vectors are not decayed).
 */
import { tf } from '@task-agnostic/tf';

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
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    readonly variables: readonly tf.Variable[],
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new RangeError(`Adam: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.m = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  get step(): number {
    return this.t;
  }

  /** One update; `grads[i]` belongs to `variables[i]` (null = no gradient this step). */
  apply(grads: readonly (tf.Tensor | null)[], learningRate: number): void {
    if (grads.length !== this.variables.length) {
      throw new RangeError(`Adam.apply: ${grads.length} gradients for ${this.variables.length} variables`);
    }
    this.t += 1;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    const stepSize = learningRate / bc1;
    tf.tidy(() => {
      for (let i = 0; i < grads.length; i++) {
        const g = grads[i];
        if (!g) continue;
        const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), this.epsilon);
        const w = this.variables[i]!;
        const decayed = this.weightDecay > 0 && w.rank >= 2 ? tf.mul(w, 1 - learningRate * this.weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      }
    });
  }

  getState(): AdamStateTensors {
    return {
      step: this.t,
      m: this.m.map((x) => x.dataSync() as Float32Array).map((a) => new Float32Array(a)),
      v: this.v.map((x) => x.dataSync() as Float32Array).map((a) => new Float32Array(a)),
    };
  }

  setState(s: AdamStateTensors): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new RangeError(`Adam.setState: state holds ${s.m.length} moments, optimiser has ${this.m.length}`);
    }
    this.t = s.step;
    for (let i = 0; i < this.m.length; i++) {
      const shape = this.m[i]!.shape;
      tf.tidy(() => {
        this.m[i]!.assign(tf.tensor(s.m[i]!, shape));
        this.v[i]!.assign(tf.tensor(s.v[i]!, shape));
      });
    }
  }

  dispose(): void {
    for (const x of this.m) x.dispose();
    for (const x of this.v) x.dispose();
  }
}
