/**
 * The deployment gate: before `trader live` starts, the model artifact must carry an evaluation on
 * its validation split (written by `trainer train` / `trainer backtest`) in which the fused strategy
 * beat buy-and-hold and the best naive strategy (intervals of the Sharpe differences above 0), with
 * the fusion and on the symbols about to be traded. `--allow-unproven-model` overrides that; an
 * untrained artifact (`trader init-model`) is refused live regardless. `trader paper` only warns.
 */
import type { ModelJson } from '@task-agnostic/model';

export interface DeploymentCheck {
  /** True when nothing stands against trading this model live. */
  readonly proven: boolean;
  /** An untrained artifact (random weights): never traded live. */
  readonly untrained: boolean;
  /** Why it is not proven (empty when proven). */
  readonly problems: readonly string[];
}

export interface DeploymentContext {
  readonly fusion: string;
  readonly symbols: readonly string[];
  /** 'tilt': the artifact's evaluation is the fused strategy's; the tilt has none of its own (its validation score is its fit's objective). */
  readonly policy?: 'fused' | 'tilt';
}

/** True for the artifacts `trader init-model` writes. */
export function isUntrained(json: Pick<ModelJson, 'metrics'>): boolean {
  const m = json.metrics as { untrained?: unknown; note?: unknown };
  return m.untrained === true || (typeof m.note === 'string' && m.note.startsWith('untrained'));
}

export function checkDeployment(json: Pick<ModelJson, 'metrics' | 'evaluation'>, ctx: DeploymentContext): DeploymentCheck {
  const untrained = isUntrained(json);
  const problems: string[] = [];
  if (untrained) problems.push('the artifact is UNTRAINED (random weights from trader init-model)');
  if (ctx.policy === 'tilt') {
    problems.push(
      'the tilt policy has no evaluation of its own in the artifact: its validation score is the objective its weight, heads, band and half-life were chosen on, not a test against buy-and-hold (see `trainer backtest <run>`: the tilt policy line and its deflated Sharpe)',
    );
    return { proven: false, untrained, problems };
  }
  const ev = json.evaluation;
  if (!ev) {
    problems.push('the artifact carries no evaluation of its strategy against buy-and-hold and the naive strategies (train it with the current trainer, or run `trainer backtest <run>`)');
    return { proven: false, untrained, problems };
  }
  if (ev.fusion !== ctx.fusion) problems.push(`it was evaluated with ${ev.fusion} fusion but would trade with ${ctx.fusion} (run \`trainer backtest <run> --fusion ${ctx.fusion}\`, or trade with --fusion ${ev.fusion})`);
  const bySymbol = new Map(ev.symbols.map((s) => [s.symbol, s]));
  for (const sym of ctx.symbols) {
    const s = bySymbol.get(sym);
    if (!s) problems.push(`${sym}: not evaluated (validation covered ${ev.symbols.map((x) => x.symbol).join(', ') || 'no symbol'})`);
    else if (!s.passed) problems.push(`${sym} on validation (${s.bars} bars): ${s.reason}`);
  }
  return { proven: problems.length === 0, untrained, problems };
}

/** The one-paragraph explanation for the log / the error. */
export function describeDeployment(c: DeploymentCheck, command: 'paper' | 'live', allowUnproven: boolean): string {
  if (c.proven) return 'deployment gate: the model beat buy-and-hold and the best naive strategy on validation';
  const list = c.problems.map((p) => `  - ${p}`).join('\n');
  if (command === 'paper') return `deployment gate (warning only in paper): this model is not proven:\n${list}`;
  if (c.untrained) return `deployment gate: refusing to trade an untrained model live (no flag overrides this):\n${list}`;
  if (allowUnproven) return `deployment gate: trading an UNPROVEN model live because of --allow-unproven-model:\n${list}`;
  return `deployment gate: refusing to trade this model live:\n${list}\nPass --allow-unproven-model to trade it anyway (at your own risk), or use \`trader paper\`.`;
}

/** Whether a run may start: paper always; live when proven, or unproven with the override (never untrained). */
export function deploymentAllows(c: DeploymentCheck, command: 'paper' | 'live', allowUnproven: boolean): boolean {
  if (command === 'paper' || c.proven) return true;
  return !c.untrained && allowUnproven;
}
