/**
 * Issue 24 (a 150,000-candle replay must keep p99 < 10 ms): what the journal writes per batch must
 * not grow with the journal. Counted, not timed: the pages (WAL frames) a write adds, read from the
 * checkpoint that follows it (Journal.writeStats.lastCheckpointFrames).
 */
import { describe, expect, it } from 'vitest';
import { Journal } from './journal.js';
import { editJournalFile, tempJournalPath } from './journal-test-kit.js';

const tmp = () => tempJournalPath('tat-journal-growth-');
const STAGES = ['queue', 'predict', 'fusion', 'bar_wait', 'risk', 'journal', 'decision_to_send', 'features', 'encoder', 'heads'];

/** A deterministic stream of latency-like values (ms, spread over three decades). */
function values(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return 0.01 * 10 ** (3 * (x / 2 ** 32));
  };
}

/** Pages one batch of latency rows (100 candles x 10 stages, as TradingEngine.flush writes them) adds to the WAL. */
function batchPages(j: Journal, next: () => number): number {
  j.checkpoint(true);
  j.transaction(() => {
    for (let c = 0; c < 100; c++) for (const s of STAGES) j.recordLatency(s, next());
  });
  j.checkpoint(true);
  return j.writeStats.lastCheckpointFrames;
}

describe('journal writes per batch stay constant as the journal grows', () => {
  it('a batch of 1,000 latency rows writes as many pages after 150,000 rows as after 2,000 (no index on the values)', () => {
    const j = Journal.open(tmp(), { synchronous: 'normal' });
    const next = values(7);
    batchPages(j, next);
    const early = batchPages(j, next);
    for (let b = 0; b < 148; b++) {
      j.transaction(() => {
        for (let c = 0; c < 100; c++) for (const s of STAGES) j.recordLatency(s, next());
      });
    }
    const late = batchPages(j, next);
    // The table appends: ~1,000 rows of ~20 bytes are a handful of pages, early and late. A (stage, ms)
    // index took each row at a random place: after 150,000 rows a batch rewrote hundreds of its pages.
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(20);
    expect(late).toBeLessThanOrEqual(early + 3);
    // latencyStats still gives nearest-rank percentiles per stage (checked against a sort of the rows).
    const rows = j.all<{ ms: number }>('SELECT ms FROM latencies WHERE stage = ?', 'encoder').map((r) => r.ms).sort((a, b) => a - b);
    const s = j.latencyStats().encoder!;
    expect(s).toEqual({ n: rows.length, p50: rows[Math.floor(0.5 * (rows.length - 1))], p99: rows[Math.floor(0.99 * (rows.length - 1))] });
    j.close();
  });

  it('drops the (stage, ms) index of a journal written by an earlier version when a writer opens it', () => {
    const file = tmp();
    Journal.open(file).close();
    editJournalFile(file, (db) => db.exec('CREATE INDEX latencies_stage ON latencies(stage, ms)'));
    const j = Journal.open(file);
    expect(j.all("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'latencies_stage'")).toEqual([]);
    j.close();
  });
});
