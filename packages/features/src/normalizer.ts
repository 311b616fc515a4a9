/**
 * Per-feature scaling fitted on a training row range only: robust (median, IQR / 1.349, so it
 * matches the std on normal data) or standard (mean, population std); the result is clipped to
 * +-clip. Warm-up rows stay 0. Serialises to plain JSON for the model artifact.
 */
import { z } from 'zod/v3';
import { ConfigError, DataError, configErrorFromZod, quantileSorted } from '@task-agnostic/core';
import type { FeatureMatrix } from './batch.js';

export type NormalizerMethod = 'robust' | 'standard';
export interface NormalizerOptions {
  readonly method?: NormalizerMethod;
  /** Clip the scaled values to [-clip, clip]; default 5. */
  readonly clip?: number;
}

const stateSchema = z
  .object({
    type: z.literal('normalizer'),
    version: z.literal(1),
    method: z.enum(['robust', 'standard']),
    clip: z.number().positive(),
    names: z.array(z.string()),
    center: z.array(z.number().finite()),
    scale: z.array(z.number().finite().positive()),
    fitRows: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
  })
  .strict()
  .refine((s) => s.center.length === s.names.length && s.scale.length === s.names.length, {
    message: 'names, center and scale must have the same length',
    path: ['scale'],
  });

export type NormalizerState = z.infer<typeof stateSchema>;

/** IQR of a normal distribution in standard deviations (2 x 0.6745). */
const IQR_TO_STD = 1.349;

export class Normalizer {
  private constructor(
    readonly names: readonly string[],
    readonly center: Float64Array,
    readonly scale: Float64Array,
    readonly method: NormalizerMethod,
    readonly clip: number,
    readonly fitRows: readonly [number, number],
  ) {}

  /** Fits on rows [max(startRow, warmup), endRow) of m. */
  static fit(m: FeatureMatrix, startRow: number, endRow: number, options: NormalizerOptions = {}): Normalizer {
    const method = options.method ?? 'robust';
    const clip = options.clip ?? 5;
    if (method !== 'robust' && method !== 'standard') throw new ConfigError(`unknown method '${String(method)}' (robust | standard)`, 'method');
    if (!(clip > 0) || !Number.isFinite(clip)) throw new ConfigError(`clip is ${clip}; use a positive number`, 'clip');
    const s = Math.max(Math.floor(startRow), m.warmup);
    const e = Math.min(Math.floor(endRow), m.rows);
    if (!(e - s >= 2)) {
      throw new DataError(`Normalizer.fit: rows [${startRow}, ${endRow}) hold ${Math.max(0, e - s)} valid rows after warm-up ${m.warmup}; need at least 2`);
    }
    const n = e - s;
    const F = m.cols;
    const center = new Float64Array(F);
    const scale = new Float64Array(F);
    const col = new Float64Array(n);
    for (let j = 0; j < F; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const x = m.data[(s + i) * F + j]!;
        col[i] = x;
        sum += x;
      }
      const mean = sum / n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (col[i]! - mean) ** 2;
      const sd = Math.sqrt(ss / n);
      if (method === 'robust') {
        col.sort();
        center[j] = quantileSorted(col, 0.5);
        const iqr = (quantileSorted(col, 0.75) - quantileSorted(col, 0.25)) / IQR_TO_STD;
        // A feature that is mostly constant has IQR 0: fall back to the std, then to 1.
        scale[j] = iqr > 1e-12 ? iqr : sd > 1e-12 ? sd : 1;
      } else {
        center[j] = mean;
        scale[j] = sd > 1e-12 ? sd : 1;
      }
    }
    return new Normalizer(m.names, center, scale, method, clip, [s, e]);
  }

  private check(cols: number, names?: readonly string[]): void {
    if (cols !== this.names.length) throw new DataError(`expected ${this.names.length} features, got ${cols}`);
    if (names) {
      for (let j = 0; j < cols; j++) {
        if (names[j] !== this.names[j]) throw new DataError(`feature ${j} is '${names[j]}', the normalizer was fitted on '${this.names[j]}'`);
      }
    }
  }

  /** A scaled copy of m (warm-up rows stay 0). */
  transform(m: FeatureMatrix): FeatureMatrix {
    this.check(m.cols, m.names);
    const F = m.cols;
    const out = new Float32Array(m.data.length);
    const c = this.center;
    const sc = this.scale;
    const clip = this.clip;
    for (let i = Math.min(m.warmup, m.rows); i < m.rows; i++) {
      const b = i * F;
      for (let j = 0; j < F; j++) {
        const z = (m.data[b + j]! - c[j]!) / sc[j]!;
        out[b + j] = z > clip ? clip : z < -clip ? -clip : z;
      }
    }
    return { data: out, rows: m.rows, cols: F, names: m.names, warmup: m.warmup };
  }

  /** Scales one row (e.g. a streaming update) into `out` (allocated when not given). */
  transformRow(row: ArrayLike<number>, out: Float32Array = new Float32Array(this.names.length)): Float32Array {
    this.check(row.length);
    if (out.length < row.length) throw new DataError(`out has ${out.length} slots, need ${row.length}`);
    const clip = this.clip;
    for (let j = 0; j < row.length; j++) {
      const z = (row[j]! - this.center[j]!) / this.scale[j]!;
      out[j] = z > clip ? clip : z < -clip ? -clip : z === z ? z : 0;
    }
    return out;
  }

  toJSON(): NormalizerState {
    return {
      type: 'normalizer',
      version: 1,
      method: this.method,
      clip: this.clip,
      names: [...this.names],
      center: Array.from(this.center),
      scale: Array.from(this.scale),
      fitRows: [this.fitRows[0], this.fitRows[1]],
    };
  }

  static fromJSON(s: unknown): Normalizer {
    const r = stateSchema.safeParse(s);
    if (!r.success) throw configErrorFromZod(r.error, { what: 'normalizer state', prefix: 'normalizer' });
    const v = r.data;
    return new Normalizer(Object.freeze([...v.names]), Float64Array.from(v.center), Float64Array.from(v.scale), v.method, v.clip, [v.fitRows[0], v.fitRows[1]]);
  }
}
