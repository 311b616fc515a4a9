import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, openSync, closeSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DataError, holdDecision, type TradingDecision } from '@task-agnostic/core';
import { Journal, clientOrderId } from './journal.js';
import { editJournalFile, spawnJournalProcess, tempJournalPath } from './journal-test-kit.js';

const tmp = () => tempJournalPath();
const candle = (ts: number) => ({ tsMs: ts, open: 100, high: 101, low: 99, close: 100.5, volume: 10 });
const decision: TradingDecision = {
  tsMs: 3_600_000, symbol: 'BTCUSDT', action: 'buy', side: 'long', confidence: 0.7, agreement: 0.8,
  sizeFraction: 0.02, stopLossPct: 0.015, takeProfitPct: 0.025, reasoning: 'up 0.7, bull regime agrees',
  outputs: { direction: { up: 0.7, down: 0.1, sideways: 0.2 } },
};

describe('Journal', () => {
  it('uses WAL and records candles, decisions, verdicts, orders, fills and positions idempotently', () => {
    const j = Journal.open(tmp());
    expect(j.journalMode).toBe('wal');
    expect(j.recordCandle('BTCUSDT', '1h', candle(0), 1)).toBe(true);
    expect(j.recordCandle('BTCUSDT', '1h', candle(0), 2)).toBe(false);
    expect(j.recordCandle('BTCUSDT', '1h', candle(3_600_000), 3)).toBe(true);
    expect(j.lastCandleTs('BTCUSDT', '1h')).toBe(3_600_000);
    expect(j.lastCandleTs('ETHUSDT', '1h')).toBeUndefined();

    const id = j.recordDecision('BTCUSDT', decision, { features: 0.1, encoder: 0.5 });
    expect(j.recordDecision('BTCUSDT', decision)).toBe(id);
    j.recordVerdict(id, { approved: true, sizeFraction: 0.015, stopLossPct: 0.015, takeProfitPct: 0.025, reasons: ['portfolio: shrunk to fit 10% exposure'] });
    const coid = clientOrderId('run1', 'BTCUSDT', decision.tsMs, 'entry');
    const req = { symbol: 'BTCUSDT', side: 'buy' as const, type: 'market' as const, qty: 0.01, clientOrderId: coid };
    expect(j.recordOrderIntent(req, id, 10)).toBe(true);
    expect(j.recordOrderIntent(req, id, 11)).toBe(false);
    expect(j.unsettledOrders().map((o) => o.clientOrderId)).toEqual([coid]);
    j.setOrderStatus(coid, 'filled', 12, 'ex-1');
    expect(j.unsettledOrders()).toEqual([]);
    expect(j.order(coid)).toMatchObject({ status: 'filled', exchangeOrderId: 'ex-1', decisionId: id, qty: 0.01 });
    expect(() => j.setOrderStatus('nope', 'filled', 1)).toThrow(/no order with client id nope/);
    const fill = { orderId: 'ex-1', clientOrderId: coid, symbol: 'BTCUSDT', side: 'buy' as const, qty: 0.01, price: 100.6, fee: 0.001, liquidity: 'taker' as const, reason: 'signal' as const, tsMs: 7_200_000 };
    expect(j.recordFill(fill)).toBe(true);
    expect(j.recordFill(fill)).toBe(false);
    j.recordPosition('BTCUSDT', { symbol: 'BTCUSDT', side: 'long', qty: 0.01, entryPrice: 100.6, leverage: 1, openedMs: 7_200_000 }, 7_200_000, 'fill');
    j.recordDecision('BTCUSDT', holdDecision(7_200_000, 'warming up'));
    expect(j.lastDecisionTs('BTCUSDT')).toBe(7_200_000);
    expect(j.counts()).toMatchObject({ candles: 2, decisions: 2, verdicts: 1, orders: 1, fills: 1, position_changes: 1 });
    const stored = j.all<{ outputs_json: string; reasoning: string }>('SELECT outputs_json, reasoning FROM decisions WHERE id = ?', id)[0]!;
    expect(JSON.parse(stored.outputs_json)).toEqual(decision.outputs);
    j.close();
  });

  it('computes latency percentiles per stage (nearest rank)', () => {
    const j = Journal.open(tmp());
    for (let i = 1; i <= 100; i++) j.recordLatency('encoder', i);
    j.recordLatency('features', 0.2);
    const s = j.latencyStats();
    expect(s.encoder).toEqual({ n: 100, p50: 50, p99: 99 });
    expect(s.features).toEqual({ n: 1, p50: 0.2, p99: 0.2 });
    j.close();
  });

  it('makes client order ids that are deterministic, short and Bybit-safe', () => {
    const a = clientOrderId('run-2026', 'BTCUSDT', 1_735_689_600_000, 'entry');
    expect(a).toBe(clientOrderId('run-2026', 'BTCUSDT', 1_735_689_600_000, 'entry'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
    expect(a).not.toBe(clientOrderId('run-2026', 'BTCUSDT', 1_735_693_200_000, 'entry'));
  });

  it('refuses a journal of another schema version', () => {
    const file = tmp();
    Journal.open(file).close();
    editJournalFile(file, (raw) => raw.pragma('user_version = 99'));
    expect(() => Journal.open(file)).toThrow(/schema version 99/);
  });

  it('keeps every row written before a kill -9', async () => {
    const file = tmp();
    // A child process writes candles as fast as it can and reports each committed write; we kill it hard.
    const child = spawnJournalProcess(
      file,
      `for (let i = 0; ; i++) {
        j.recordCandle('BTCUSDT', '1h', { tsMs: i * 3600000, open: 1, high: 1, low: 1, close: 1, volume: 1 }, Date.now());
        process.stdout.write(i + '\\n');
      }`,
    );
    let acknowledged = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        const lines = b.toString().trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 200 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.on('exit', r));
    const j = Journal.open(file);
    const n = j.counts().candles!;
    // Every write the child acknowledged is there (it may have committed a few more before dying).
    expect(n).toBeGreaterThanOrEqual(acknowledged + 1);
    expect(j.lastCandleTs('BTCUSDT', '1h')).toBe((n - 1) * 3_600_000);
    j.close();
  });

  it('refuses a second trader on the same journal with the holder\'s pid, and takes over a dead one\'s lock (issue 24, item 3)', async () => {
    const file = tmp();
    const child = spawnJournalProcess(file, `process.stdout.write('open\\n'); setInterval(() => {}, 1000);`);
    await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('open') && resolve()));
    expect(() => Journal.open(file)).toThrow(`journal ${file} is in use by another trader (pid ${child.pid})`);
    // a reader (status, dashboard) is not refused
    const r = Journal.open(file, { readOnly: true });
    expect(r.counts().candles).toBe(0);
    r.close();
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    expect(existsSync(`${file}.lock`)).toBe(true); // left behind by kill -9: stale
    const j = Journal.open(file);
    expect(() => Journal.open(file)).toThrow(/in use by another trader \(pid \d+, this process\)/);
    j.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    Journal.open(file).close();
  });

  describe('damaged journals (issue 24, items 8 and 10)', () => {
    const written = (): string => {
      const file = tmp();
      const j = Journal.open(file);
      for (let i = 0; i < 2000; i++) j.recordCandle('BTCUSDT', '1h', candle(i * 3_600_000), i);
      j.close();
      editJournalFile(file, (raw) => raw.pragma('wal_checkpoint(TRUNCATE)'));
      return file;
    };

    it('refuses a journal with a dropped table instead of recreating it empty', () => {
      const file = written();
      editJournalFile(file, (raw) => raw.exec('DROP TABLE targets; DROP TABLE orders'));
      expect(() => Journal.open(file)).toThrow(/journal .* is damaged: table\(s\) orders, targets missing; refusing to resume from it\. Recover: restore the journal from a backup/);
      editJournalFile(file, (after) => expect(after.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'orders'").get()).toEqual({ n: 0 }));
    });

    it('opens an older journal without the dashboard tables (equity, risk_layers) and adds them', () => {
      const file = written();
      editJournalFile(file, (raw) => raw.exec('DROP TABLE equity; DROP TABLE risk_layers'));
      const j = Journal.open(file);
      expect(j.hasTable('equity') && j.hasTable('risk_layers')).toBe(true);
      expect(j.counts().candles).toBe(2000);
      j.close();
    });

    it('refuses a journal whose table lost a column', () => {
      const file = written();
      editJournalFile(file, (raw) => raw.exec('ALTER TABLE events DROP COLUMN data_json'));
      expect(() => Journal.open(file)).toThrow(/is damaged: table\(s\) events do not have the expected columns/);
    });

    it('detects a damaged page at open (quick_check), with a one-line message and a recovery hint', () => {
      const file = written();
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(size / 2 / 4096) * 4096);
      closeSync(fd);
      let msg = '';
      try {
        Journal.open(file).close();
      } catch (e) {
        msg = (e as Error).message;
        expect(e).toBeInstanceOf(DataError);
      }
      expect(msg).toMatch(/^journal .* is damaged.*refusing to resume from it/);
      expect(msg.split('\n')).toHaveLength(1);
      expect(existsSync(`${file}.lock`)).toBe(false); // a refused open leaves no lock behind
    });

    it('a full journal (disk or size limit) fails a write with one line naming SQLITE_FULL, and keeps what it had', () => {
      const file = tmp();
      const j = Journal.open(file);
      j.transaction(() => j.recordCandle('BTCUSDT', '1h', candle(0), 0));
      // cap the file at its current size: the next pages cannot be allocated (what a full disk does)
      const pages = Number(j.all<{ page_count: number }>('PRAGMA page_count')[0]!.page_count);
      j.all(`PRAGMA max_page_count = ${pages}`);
      let err: unknown;
      try {
        j.transaction(() => {
          for (let i = 1; i < 5000; i++) j.recordCandle('BTCUSDT', '1h', candle(i * 3_600_000), i);
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(/^journal .*: write failed \(SQLITE_FULL: database or disk is full\): the disk .* is full; free space and restart/);
      expect((err as Error).message.split('\n')).toHaveLength(1);
      expect(j.counts().candles).toBe(1); // the failed transaction left nothing half-written
      j.close();
    });

    it('gives one line for a file that is not a journal, a missing journal to read and an unwritable one', () => {
      const junk = tmp();
      writeFileSync(junk, 'this is not a database, just some text that is long enough to have a header'.repeat(20));
      expect(() => Journal.open(junk)).toThrow(/^journal .* is damaged or not a journal \(SQLITE_NOTADB: file is not a database\)/);
      const missing = tmp();
      expect(() => Journal.open(missing, { readOnly: true })).toThrow(`journal ${missing} does not exist`);
      expect(existsSync(missing)).toBe(false);
      if (process.getuid?.() !== 0) {
        const dir = path.dirname(tmp());
        chmodSync(dir, 0o555);
        try {
          expect(() => Journal.open(path.join(dir, 'j.db'))).toThrow(/^cannot (create the journal lock|open journal)/);
        } finally {
          chmodSync(dir, 0o755);
        }
      }
    });
  });
});

