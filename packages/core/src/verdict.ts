/**
 * One plain verdict for a difference with its interval (model - baseline, new - old):
 * "better (95% CI excludes 0)", "no significant difference", "worse", or "too few to judge"
 * when the sample is too small for the interval to mean much (fewer than 30 windows or 10 trades).
 */

export const MIN_WINDOWS_TO_JUDGE = 30;
export const MIN_TRADES_TO_JUDGE = 10;

export type VerdictKind = 'better' | 'no significant difference' | 'worse' | 'too few to judge';

export interface Verdict {
  kind: VerdictKind;
  /** What to print: e.g. "better (95% CI excludes 0)", "too few to judge (12 windows < 30)". */
  text: string;
}

export interface DifferenceInterval {
  lo: number;
  hi: number;
  /** Default 0.95. */
  confidence?: number;
}

export interface JudgeOptions {
  /** Windows (or bars) the difference was measured on. */
  windows?: number;
  /** Trades behind it, where trades are what is judged. */
  trades?: number;
  /** false for losses and errors (a negative difference is better). Default true. */
  higherIsBetter?: boolean;
}

export function judgeDifference(diff: DifferenceInterval, options: JudgeOptions = {}): Verdict {
  const { windows, trades } = options;
  if (windows !== undefined && windows < MIN_WINDOWS_TO_JUDGE)
    return { kind: 'too few to judge', text: `too few to judge (${windows} windows < ${MIN_WINDOWS_TO_JUDGE})` };
  if (trades !== undefined && trades < MIN_TRADES_TO_JUDGE)
    return { kind: 'too few to judge', text: `too few to judge (${trades} trades < ${MIN_TRADES_TO_JUDGE})` };
  if (!Number.isFinite(diff.lo) || !Number.isFinite(diff.hi))
    return { kind: 'too few to judge', text: 'too few to judge (no interval)' };
  const pct = Math.round((diff.confidence ?? 0.95) * 100);
  const up = options.higherIsBetter ?? true;
  const above = diff.lo > 0;
  const below = diff.hi < 0;
  if ((above && up) || (below && !up)) return { kind: 'better', text: `better (${pct}% CI excludes 0)` };
  if ((below && up) || (above && !up)) return { kind: 'worse', text: 'worse' };
  return { kind: 'no significant difference', text: 'no significant difference' };
}

/** "0.3575 [0.3311, 0.3822]" */
export function formatInterval(x: { estimate: number; lo: number; hi: number }, digits = 4): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  return `${f(x.estimate)} [${f(x.lo)}, ${f(x.hi)}]`;
}
