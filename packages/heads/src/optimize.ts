/** Nelder-Mead simplex minimisation (Lagarias et al. 1998 coefficients: reflect 1, expand 2, contract 0.5, shrink 0.5). */
export interface NelderMeadOptions {
  /** Initial step per coordinate (default 0.5). */
  readonly step?: number | readonly number[];
  readonly maxIterations?: number;
  /** Stop when the spread of simplex values and the simplex size fall below these. */
  readonly fTolerance?: number;
  readonly xTolerance?: number;
}

export interface NelderMeadResult {
  readonly x: number[];
  readonly fx: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export function nelderMead(f: (x: readonly number[]) => number, x0: readonly number[], options: NelderMeadOptions = {}): NelderMeadResult {
  const d = x0.length;
  const maxIt = options.maxIterations ?? 200 * d;
  const fTol = options.fTolerance ?? 1e-10;
  const xTol = options.xTolerance ?? 1e-8;
  const steps = typeof options.step === 'object' ? options.step : new Array<number>(d).fill(options.step ?? 0.5);
  const safe = (x: readonly number[]): number => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex: number[][] = [x0.slice()];
  for (let i = 0; i < d; i++) {
    const p = x0.slice();
    p[i]! += steps[i]!;
    simplex.push(p);
  }
  let values = simplex.map(safe);
  let it = 0;
  let converged = false;
  for (; it < maxIt; it++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    let size = 0;
    for (let i = 1; i <= d; i++) for (let j = 0; j < d; j++) size = Math.max(size, Math.abs(simplex[i]![j]! - simplex[0]![j]!));
    if (Math.abs(values[d]! - values[0]!) <= fTol * (Math.abs(values[0]!) + 1e-12) && size <= xTol * (1 + Math.max(...simplex[0]!.map(Math.abs)))) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) centroid[j]! += simplex[i]![j]! / d;
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (simplex[d]![j]! - c));
    const xr = along(-1);
    const fr = safe(xr);
    if (fr < values[0]!) {
      const xe = along(-2);
      const fe = safe(xe);
      if (fe < fr) {
        simplex[d] = xe;
        values[d] = fe;
      } else {
        simplex[d] = xr;
        values[d] = fr;
      }
      continue;
    }
    if (fr < values[d - 1]!) {
      simplex[d] = xr;
      values[d] = fr;
      continue;
    }
    const outside = fr < values[d]!;
    const xc = along(outside ? -0.5 : 0.5);
    const fc = safe(xc);
    if (fc < (outside ? fr : values[d]!)) {
      simplex[d] = xc;
      values[d] = fc;
      continue;
    }
    for (let i = 1; i <= d; i++) {
      simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!));
      values[i] = safe(simplex[i]!);
    }
  }
  let best = 0;
  for (let i = 1; i <= d; i++) if (values[i]! < values[best]!) best = i;
  return { x: simplex[best]!, fx: values[best]!, iterations: it, converged };
}
