/**
 * The trading loop's guard: every promise the loop starts (a stream callback's candle, the replay)
 * is watched, so an error never escapes as an unhandled rejection (which would end the process
 * with positions unmanaged and nothing journaled). The first fatal error is kept, reported once, and
 * stops the loop; the caller then runs its shutdown path (journal, flatten on exit, exit code 1).
 * Transient errors never get here: the engines retry them within the risk gate's error budget.
 */
export class LoopGuard {
  private readonly ac = new AbortController();
  private error: Error | undefined;

  /** `outer`: the signals that stop the loop gracefully (SIGINT / SIGTERM). */
  constructor(outer: AbortSignal, private readonly onFatal: (err: Error) => void) {
    if (outer.aborted) this.ac.abort();
    else outer.addEventListener('abort', () => this.ac.abort(), { once: true });
  }

  /** Aborted by the outer signal or by a fatal error. */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** The first fatal error, if the loop stopped on one. */
  get fatal(): Error | undefined {
    return this.error;
  }

  /** Records a fatal error (the first one only) and stops the loop. */
  fail(err: unknown): void {
    if (this.error) return;
    this.error = err instanceof Error ? err : new Error(String(err));
    try {
      this.onFatal(this.error);
    } catch {
      // reporting must not hide the error itself (e.g. a journal that cannot be written)
    }
    this.ac.abort();
  }

  /** Watches a promise the loop does not await (a stream callback's work): a rejection is fatal. */
  watch(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.fail(err));
  }

  /** Runs the loop body; an error it throws is fatal. */
  async run(body: () => Promise<unknown>): Promise<void> {
    try {
      await body();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Resolves once the loop is stopped (a signal or a fatal error). */
  stopped(): Promise<void> {
    return new Promise<void>((resolve) => (this.ac.signal.aborted ? resolve() : this.ac.signal.addEventListener('abort', () => resolve(), { once: true })));
  }
}
