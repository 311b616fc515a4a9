/**
 * Multinomial logistic regression (softmax regression) fitted by Newton's method: class logits
 * z_ik = b_k + sum_j x_ij W_jk with class 0 the reference (its column held at 0), minimising the
 * (optionally row-weighted) mean cross-entropy plus a small ridge on the slopes (never on the
 * intercepts), so that separable data still has a finite optimum. The loss is convex; each Newton
 * step solves the (ridge-regularised, so positive definite) Hessian system by Cholesky, with a
 * backtracking line search (Armijo). Parameters are returned as a row-major [(F + 1) x K] matrix:
 * row 0 the intercepts, rows 1..F the slopes of features 0..F-1.
 */

export interface MultinomialLogisticOptions {
  /** Per-row weights (default 1). */
  readonly weights?: ArrayLike<number>;
  /** Ridge on the slopes (default 1e-4). */
  readonly l2?: number;
  readonly maxIterations?: number;
}

export interface MultinomialLogisticFit {
  /** Row-major [(F + 1) x K]: row 0 intercepts, then one row per feature; column 0 is all zeros. */
  readonly weights: Float64Array;
  readonly features: number;
  readonly classes: number;
  readonly iterations: number;
  /** The objective at the optimum (weighted mean cross-entropy plus the ridge term). */
  readonly loss: number;
}

/** Logits [n x K] of features X [n x F] under weights W [(F + 1) x K]. */
export function multinomialLogits(weights: ArrayLike<number>, X: ArrayLike<number>, n: number, F: number, K: number): Float64Array {
  if (weights.length !== (F + 1) * K) throw new RangeError(`multinomial logits: ${weights.length} weights for ${F} features and ${K} classes (want ${(F + 1) * K})`);
  if (X.length !== n * F) throw new RangeError(`multinomial logits: ${X.length} feature values for ${n} rows of ${F}`);
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = weights[k]!;
      for (let j = 0; j < F; j++) s += X[i * F + j]! * weights[(j + 1) * K + k]!;
      z[i * K + k] = s;
    }
  }
  return z;
}

/** Cholesky solve of A s = b for a symmetric positive definite A [m x m]; null when A is not. */
function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j]!;
      for (let k = 0; k < j; k++) s -= L[i * m + k]! * L[j * m + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * m + i] = Math.sqrt(s);
      } else L[i * m + j] = s / L[j * m + j]!;
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * m + k]! * y[k]!;
    y[i] = s / L[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < m; k++) s -= L[k * m + i]! * x[k]!;
    x[i] = s / L[i * m + i]!;
  }
  return x.every(Number.isFinite) ? x : null;
}

/**
 * Fits the multinomial logistic regression of labels y (integers 0..K-1) on features X [n x F].
 * Throws a RangeError on bad shapes or labels; returns the last accepted iterate when the iteration
 * cap is reached.
 */
export function fitMultinomialLogistic(X: ArrayLike<number>, y: ArrayLike<number>, n: number, F: number, K: number, options: MultinomialLogisticOptions = {}): MultinomialLogisticFit {
  if (!(K >= 2) || !(F >= 0) || !(n >= 1)) throw new RangeError(`multinomial logistic: need n >= 1 rows, F >= 0 features and K >= 2 classes (got ${n}, ${F}, ${K})`);
  if (X.length !== n * F || y.length !== n) throw new RangeError(`multinomial logistic: ${X.length} feature values and ${y.length} labels for ${n} rows of ${F}`);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new RangeError(`multinomial logistic: label ${c} at row ${i} is not a class 0..${K - 1}`);
  }
  const w = options.weights;
  if (w && w.length !== n) throw new RangeError(`multinomial logistic: ${w.length} row weights for ${n} rows`);
  const l2 = options.l2 ?? 1e-4;
  const maxIt = options.maxIterations ?? 50;
  const P = F + 1; // inputs including the intercept
  const C = K - 1; // free classes
  const m = P * C; // parameter vector: theta[a * C + (k - 1)] = W[a][k]
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += w ? w[i]! : 1;
  const xOf = (i: number, a: number): number => (a === 0 ? 1 : X[i * F + a - 1]!);
  const full = (theta: Float64Array): Float64Array => {
    const W = new Float64Array(P * K);
    for (let a = 0; a < P; a++) for (let k = 1; k < K; k++) W[a * K + k] = theta[a * C + k - 1]!;
    return W;
  };
  const objective = (theta: Float64Array): number => {
    const z = multinomialLogits(full(theta), X, n, F, K);
    let l = 0;
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, z[i * K + k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(z[i * K + k]! - mx);
      l += (w ? w[i]! : 1) * (mx + Math.log(s) - z[i * K + y[i]!]!);
    }
    let r = 0;
    for (let a = 1; a < P; a++) for (let c = 0; c < C; c++) r += theta[a * C + c]! ** 2;
    return l / wsum + l2 * r;
  };
  let theta = new Float64Array(m);
  let current = objective(theta);
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const p = new Float64Array(K);
  let it = 0;
  for (; it < maxIt; it++) {
    g.fill(0);
    H.fill(0);
    const z = multinomialLogits(full(theta), X, n, F, K);
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, z[i * K + k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k] = Math.exp(z[i * K + k]! - mx);
      for (let k = 0; k < K; k++) p[k]! /= s;
      const wi = (w ? w[i]! : 1) / wsum;
      for (let a = 0; a < P; a++) {
        const xa = xOf(i, a);
        if (xa === 0) continue;
        for (let c = 0; c < C; c++) {
          const k = c + 1;
          g[a * C + c]! += wi * xa * (p[k]! - (y[i] === k ? 1 : 0));
          for (let b = 0; b < P; b++) {
            const xb = xOf(i, b);
            if (xb === 0) continue;
            for (let d = 0; d < C; d++) {
              const q = (c === d ? p[k]! : 0) - p[k]! * p[d + 1]!;
              H[(a * C + c) * m + b * C + d]! += wi * xa * xb * q;
            }
          }
        }
      }
    }
    for (let a = 1; a < P; a++) {
      for (let c = 0; c < C; c++) {
        const j = a * C + c;
        g[j]! += 2 * l2 * theta[j]!;
        H[j * m + j]! += 2 * l2;
      }
    }
    // a tiny ridge on the intercepts too, so an empty class keeps the system solvable
    for (let c = 0; c < C; c++) H[c * m + c]! += 1e-10;
    let g2 = 0;
    for (let j = 0; j < m; j++) g2 += g[j]! ** 2;
    if (g2 < 1e-18) break;
    const step = choleskySolve(H, g, m);
    if (!step) break;
    let slope = 0;
    for (let j = 0; j < m; j++) slope -= g[j]! * step[j]!;
    let t = 1;
    let accepted = false;
    for (let bt = 0; bt < 40; bt++) {
      const trial = theta.map((v, j) => v - t * step[j]!);
      const l = objective(trial);
      if (Number.isFinite(l) && l <= current + 1e-4 * t * slope) {
        const gain = current - l;
        theta = trial;
        current = l;
        accepted = true;
        if (gain < 1e-12) it = maxIt;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
  }
  return { weights: full(theta), features: F, classes: K, iterations: Math.min(it + 1, maxIt), loss: current };
}
