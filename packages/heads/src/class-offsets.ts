/**
 * Per-class offsets added to a classifier's logits, tuned for a metric that decides by the argmax
 * (e.g. macro-F1): coordinate ascent, one class at a time (class 0 stays at its offset), over shifts
 * of -1.5..1.5 in steps of 0.1, keeping a shift only when it raises the metric on the given rows.
 */

/** Shifts of a tuning step (added to one class's offset at a time), and sweeps over the classes. */
const TUNE_GRID = Array.from({ length: 31 }, (_, i) => (i - 15) / 10);
const TUNE_SWEEPS = 2;

/** The offsets (starting from `start`, default all 0) that raise `score` of logits + offsets on these rows. */
export function tuneClassOffsets(
  logits: ArrayLike<number>,
  targets: Float32Array,
  n: number,
  K: number,
  score: (outputs: Float32Array, targets: Float32Array, n: number) => number,
  start?: readonly number[],
): number[] {
  if (logits.length !== n * K) throw new RangeError(`tuneClassOffsets: ${logits.length} logits for ${n} rows of ${K} classes`);
  const offsets = start ? [...start] : Array.from({ length: K }, () => 0);
  if (offsets.length !== K) throw new RangeError(`tuneClassOffsets: ${offsets.length} starting offsets for ${K} classes`);
  const z = new Float32Array(n * K);
  const evalWith = (c: readonly number[]): number => {
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) z[i * K + k] = logits[i * K + k]! + c[k]!;
    return score(z, targets, n);
  };
  let best = evalWith(offsets);
  for (let sweep = 0; sweep < TUNE_SWEEPS; sweep++) {
    let moved = false;
    for (let k = 1; k < K; k++) {
      const c0 = offsets[k]!;
      let bestShift = 0;
      for (const d of TUNE_GRID) {
        if (d === 0) continue;
        offsets[k] = c0 + d;
        const v = evalWith(offsets);
        if (v > best) {
          best = v;
          bestShift = d;
        }
      }
      offsets[k] = c0 + bestShift;
      if (bestShift !== 0) moved = true;
    }
    if (!moved) break;
  }
  return offsets;
}
