import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { holdDecision, type TradingDecision } from '@task-agnostic/core';
import Database from 'better-sqlite3';
import { Journal, clientOrderId } from './journal.js';

const tmp = () => path.join(mkdtempSync(path.join(tmpdir(), 'tat-journal-')), 'journal.db');
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
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => Journal.open(file)).toThrow(/schema version 99/);
  });

  it('keeps every row written before a kill -9', async () => {
    const file = tmp();
    const here = path.dirname(fileURLToPath(import.meta.url));
    // A child process writes candles as fast as it can and reports each committed write; we kill it hard.
    const script = `
      import { Journal } from ${JSON.stringify(path.join(here, 'journal.ts'))};
      const j = Journal.open(${JSON.stringify(file)});
      for (let i = 0; ; i++) {
        j.recordCandle('BTCUSDT', '1h', { tsMs: i * 3600000, open: 1, high: 1, low: 1, close: 1, volume: 1 }, Date.now());
        process.stdout.write(i + '\\n');
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
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
});
