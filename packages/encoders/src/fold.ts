/**
 * Pieces shared by the encoders' inference paths: folding a layer norm's gain and bias into the
 * product that follows it, and the cache of folded weights keyed on the variables' dataIds.
 */
import type { tf, KernelRunner, TensorRef } from '@task-agnostic/tf';
import type { DenseParams, NormParams } from './layers.js';

/** The layer-norm epsilon of layers.ts (applyNorm -> @task-agnostic/tf layerNorm default). */
export const LN_EPS = 1e-5;

/**
 * LN(x) W + b with LN gain g and bias beta as norm(x) W' + b': W' = diag(g) W, b' = beta W + b,
 * each column j then scaled by colScale(j). Two new records [W', b'].
 */
export function foldNorm(k: KernelRunner, n: NormParams, d: DenseParams, colScale: (j: number) => number = () => 1): [TensorRef, TensorRef] {
  const [rows, cols] = d.w.shape;
  k.values(n.gain), k.values(n.bias), k.values(d.w), k.values(d.b); // moves any still on another backend
  const wRec = k.empty([rows, cols]);
  const bRec = k.empty([cols]);
  // views after the allocations (see KernelRunner.values)
  const g = k.values(n.gain);
  const beta = k.values(n.bias);
  const w = k.values(d.w);
  const b = k.values(d.b);
  const wf = k.values(wRec);
  const bf = k.values(bRec);
  for (let j = 0; j < cols; j++) {
    let acc = b[j]!;
    for (let i = 0; i < rows; i++) acc += beta[i]! * w[i * cols + j]!;
    bf[j] = acc * colScale(j);
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wf[i * cols + j] = g[i]! * w[i * cols + j]! * colScale(j);
  return [wRec, bRec];
}

/**
 * True while every variable still holds the dataId recorded in `keys` (tf.Variable.assign, used by
 * every optimiser step and weight load, gives the variable a new dataId).
 */
export function sameKeys(keys: readonly object[], vars: readonly tf.Variable[]): boolean {
  if (keys.length !== vars.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== vars[i]!.dataId) return false;
  return true;
}

/**
 * Folded weights for one runner (backend), rebuilt when the runner changes or any variable got a
 * new dataId. `build` pushes every backend record it makes to `owned`; they are freed on rebuild,
 * on dispose(), and if `build` throws.
 */
export class FoldCache<F> {
  private entry: { readonly runner: KernelRunner; readonly keys: readonly object[]; readonly value: F; readonly owned: readonly TensorRef[] } | null = null;
  constructor(private readonly variables: readonly tf.Variable[]) {}

  get(k: KernelRunner, build: (owned: TensorRef[]) => F): F {
    const e = this.entry;
    if (e && e.runner === k && sameKeys(e.keys, this.variables)) return e.value;
    this.dispose();
    const keys = this.variables.map((v) => v.dataId);
    const owned: TensorRef[] = [];
    try {
      const value = build(owned);
      this.entry = { runner: k, keys, value, owned };
      return value;
    } catch (err) {
      for (const r of owned) k.free(r);
      throw err;
    }
  }

  /** Frees the folded weights (rebuilt on the next get). */
  dispose(): void {
    const e = this.entry;
    if (!e) return;
    this.entry = null;
    for (const r of e.owned) e.runner.free(r);
  }
}
