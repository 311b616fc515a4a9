/**
 * A dependency-free progress bar for long work (downloads, feature building, training).
 * On a terminal it redraws one line; elsewhere (CI, pipes) it prints a line at most every
 * `logEveryMs`, so logs stay readable. Set TAT_NO_PROGRESS=1 to silence it.
 */
export interface ProgressOptions {
  readonly total: number;
  readonly label?: string;
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly width?: number;
  readonly logEveryMs?: number;
  /** Unit shown after counts, e.g. 'candles'. */
  readonly unit?: string;
}

export class ProgressBar {
  private current = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastInfo = '';
  private finished = false;
  private readonly total: number;
  private readonly label: string;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly width: number;
  private readonly logEveryMs: number;
  private readonly unit: string;
  private readonly silent: boolean;

  constructor(o: ProgressOptions) {
    this.total = Math.max(0, o.total);
    this.label = o.label ?? '';
    this.stream = o.stream ?? process.stderr;
    this.width = o.width ?? 24;
    this.logEveryMs = o.logEveryMs ?? 5000;
    this.unit = o.unit ? ` ${o.unit}` : '';
    this.silent = process.env.TAT_NO_PROGRESS === '1';
  }

  /** Advance by `n` (default 1) and optionally show extra info, e.g. losses. */
  tick(n = 1, info?: string): void {
    this.update(this.current + n, info);
  }

  update(value: number, info?: string): void {
    this.current = Math.min(this.total || value, value);
    if (info !== undefined) this.lastInfo = info;
    const now = Date.now();
    const tty = Boolean(this.stream.isTTY);
    if (now - this.lastDraw < (tty ? 100 : this.logEveryMs) && this.current < this.total) return;
    this.lastDraw = now;
    this.draw(tty);
  }

  /** Completes the bar (prints the final state once). */
  done(info?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (info !== undefined) this.lastInfo = info;
    this.current = this.total || this.current;
    this.draw(Boolean(this.stream.isTTY));
    if (this.stream.isTTY && !this.silent) this.stream.write('\n');
  }

  private draw(tty: boolean): void {
    if (this.silent) return;
    const frac = this.total > 0 ? this.current / this.total : 1;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = frac > 0 && frac < 1 ? (elapsed / frac) * (1 - frac) : 0;
    const filled = Math.round(frac * this.width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    const line = `${this.label ? this.label + ' ' : ''}[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.current}/${this.total}${this.unit} ${formatDuration(elapsed)}${eta > 0 ? ` ETA ${formatDuration(eta)}` : ''}${this.lastInfo ? ' ' + this.lastInfo : ''}`;
    if (tty) this.stream.write('\r\x1b[2K' + line);
    else this.stream.write(line + '\n');
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
