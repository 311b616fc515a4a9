/** Per-stage latency samples in memory (the last `capacity` of each), with nearest-rank percentiles. */
export class LatencyWindow {
  private readonly samples = new Map<string, number[]>();
  constructor(readonly capacity = 10_000) {}

  add(stage: string, ms: number): void {
    let a = this.samples.get(stage);
    if (!a) this.samples.set(stage, (a = []));
    a.push(ms);
    if (a.length > this.capacity) a.shift();
  }

  /** p50 / p99 (nearest rank, as Journal.latencyStats) and the count; NaN when empty. */
  stats(stage: string): { n: number; p50: number; p99: number } {
    const a = this.samples.get(stage);
    if (!a || a.length === 0) return { n: 0, p50: NaN, p99: NaN };
    const s = [...a].sort((x, y) => x - y);
    const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
    return { n: s.length, p50: at(0.5), p99: at(0.99) };
  }

  /** Median of the last 20 samples of a stage (what the risk gate's system layer sees), undefined when none. */
  median(stage: string): number | undefined {
    const a = this.samples.get(stage);
    if (!a || a.length === 0) return undefined;
    const s = a.slice(-20).sort((x, y) => x - y);
    return s[Math.floor((s.length - 1) / 2)];
  }

  stages(): string[] {
    return [...this.samples.keys()];
  }
}
