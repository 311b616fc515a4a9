/**
 * Representation quality: how well an embedding separates classes. For class centroids c_k,
 * intra = mean over points of ||x_i - c_{y_i}|| (how tight each class is), inter = mean over class
 * pairs of ||c_a - c_b|| (how far apart classes are). ratio = inter / intra: higher is better; a
 * random or collapsed representation gives a ratio near 0.
 */
export interface ClassSeparation {
  readonly inter: number;
  readonly intra: number;
  readonly ratio: number;
  /** Points per class (classes with no point are left out of `inter`). */
  readonly counts: readonly number[];
}

export function classSeparation(embedding: Float32Array, n: number, dim: number, labels: ArrayLike<number>, numClasses: number): ClassSeparation {
  if (embedding.length < n * dim) throw new RangeError(`embedding holds ${embedding.length} values, expected ${n} x ${dim}`);
  const centroids = new Float64Array(numClasses * dim);
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < numClasses)) throw new RangeError(`label ${y} at row ${i} is outside [0, ${numClasses})`);
    counts[y]!++;
    for (let k = 0; k < dim; k++) centroids[y * dim + k]! += embedding[i * dim + k]!;
  }
  for (let c = 0; c < numClasses; c++) if (counts[c]! > 0) for (let k = 0; k < dim; k++) centroids[c * dim + k]! /= counts[c]!;
  let intra = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    let s = 0;
    for (let k = 0; k < dim; k++) s += (embedding[i * dim + k]! - centroids[y * dim + k]!) ** 2;
    intra += Math.sqrt(s);
  }
  intra /= Math.max(1, n);
  let inter = 0;
  let pairs = 0;
  for (let a = 0; a < numClasses; a++) {
    if (!counts[a]) continue;
    for (let b = a + 1; b < numClasses; b++) {
      if (!counts[b]) continue;
      let s = 0;
      for (let k = 0; k < dim; k++) s += (centroids[a * dim + k]! - centroids[b * dim + k]!) ** 2;
      inter += Math.sqrt(s);
      pairs++;
    }
  }
  inter = pairs ? inter / pairs : 0;
  return { inter, intra, ratio: intra > 0 ? inter / intra : 0, counts };
}
