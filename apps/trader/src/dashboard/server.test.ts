import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Journal } from '../journal.js';
import { TraderMetrics } from './metrics.js';
import { DashboardServer, parseListen } from './server.js';
import type { DecisionRow, EquitySeries, HeadsSeries, LatencyHistogram, PositionRow } from './queries.js';
import { captureLogger, candle, testEngine } from './test-kit.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'tat-dash-'));
const TOKEN = 'unit-test-token-0123456789';

/** Sends raw bytes and returns the raw answer (for malformed requests). */
function raw(port: number, host: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('dashboard server on loopback', () => {
  let journal: Journal;
  let server: DashboardServer;
  let base: string;
  let kills: string[];
  const log = captureLogger();

  beforeAll(async () => {
    journal = Journal.open(path.join(tmp(), 'j.db'));
    const e = testEngine(journal);
    for (let i = 0; i < 60; i++) await e.onCandle(candle(i));
    e.flush(); // latency rows go to the journal in batches (at most LATENCY_FLUSH_MS late): write them now
    kills = [];
    server = new DashboardServer({ host: '127.0.0.1', port: 0, logger: log.logger, mode: 'paper', token: TOKEN });
    await server.listen();
    server.attach({ journal, metrics: new TraderMetrics(), kill: (r) => kills.push(r), status: () => [e.statusLine()] });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    journal.close();
  });

  it('serves the page, uPlot and its own assets locally (no CDN)', async () => {
    const page = await fetch(base + '/');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/assets/uplot.js');
    expect(html).not.toMatch(/https?:\/\//);
    const js = await (await fetch(base + '/assets/uplot.js')).text();
    expect(js).toContain('uPlot');
    expect((await fetch(base + '/assets/dashboard.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('equity: the journal rows with buy-and-hold = equity0 x close / close0', async () => {
    const eq = (await (await fetch(`${base}/api/equity?symbol=BTCUSDT`)).json()) as EquitySeries;
    expect(eq.total).toBe(60);
    expect(eq.ts).toEqual(Array.from({ length: 60 }, (_, i) => candle(i).tsMs));
    expect(eq.equity[0]).toBe(10_000);
    for (const i of [0, 17, 59]) expect(eq.buyHold[i]).toBeCloseTo((10_000 * candle(i).close) / candle(0).close, 9);
    const rows = journal.all<{ equity: number }>('SELECT equity FROM equity ORDER BY ts_ms');
    expect(eq.equity).toEqual(rows.map((r) => r.equity));
    // Downsampled: the last row of each time bucket, never more than asked for.
    const ds = (await (await fetch(`${base}/api/equity?symbol=BTCUSDT&points=7`)).json()) as EquitySeries;
    expect(ds.ts.length).toBeLessThanOrEqual(7);
    expect(ds.ts[ds.ts.length - 1]).toBe(candle(59).tsMs);
    const width = Math.ceil((candle(59).tsMs - candle(0).tsMs + 1) / 7);
    for (let k = 0; k < ds.ts.length; k++) {
      const bucket = Math.floor((ds.ts[k]! - candle(0).tsMs) / width);
      const last = Math.min(59, Math.floor(((bucket + 1) * width - 1) / 3_600_000));
      expect(ds.ts[k]).toBe(candle(last).tsMs);
    }
  });

  it('decisions page back without overlap, with the verdict, every layer and the order', async () => {
    const p1 = ((await (await fetch(`${base}/api/decisions?limit=25`)).json()) as { rows: DecisionRow[] }).rows;
    const p2 = ((await (await fetch(`${base}/api/decisions?limit=25&before=${p1[24]!.id}`)).json()) as { rows: DecisionRow[] }).rows;
    const p3 = ((await (await fetch(`${base}/api/decisions?limit=25&before=${p2[24]!.id}`)).json()) as { rows: DecisionRow[] }).rows;
    const ids = [...p1, ...p2, ...p3].map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => 60 - i));
    const traded = p1.find((r) => r.action !== 'hold' && r.target)!;
    expect(traded.layers.map((l) => l.layer)).toEqual(['position', 'portfolio', 'account', 'exchange', 'market', 'strategy', 'system']);
    expect(traded.approved).toBe(true);
    expect(traded.target).toMatchObject({ kind: 'decision', side: traded.side });
    expect(traded.reasoning).toBe('test double: trend');
  });

  it('heads, positions with stop and target, latency histograms', async () => {
    const h = (await (await fetch(`${base}/api/heads?symbol=BTCUSDT`)).json()) as HeadsSeries;
    expect(h.ts).toHaveLength(60);
    expect(h.up[10]).toBeCloseTo(0.5 + 0.4 * Math.sin(candle(10).tsMs / 3_600_000 / 5), 12);
    expect(h.regime[0]).toBe('bull');
    const s = (await (await fetch(`${base}/api/summary`)).json()) as { positions: PositionRow[]; counts: Record<string, number>; canKill: boolean };
    expect(s.counts.candles).toBe(60);
    expect(s.canKill).toBe(true);
    const open = s.positions.find((p) => p.side);
    if (open) {
      const sgn = open.side === 'long' ? 1 : -1;
      expect(open.stopLossPrice).toBeCloseTo(open.entryPrice! * (1 - sgn * open.stopLossPct!), 9);
      expect(open.takeProfitPrice).toBeCloseTo(open.entryPrice! * (1 + sgn * open.takeProfitPct!), 9);
    }
    const lat = ((await (await fetch(`${base}/api/latency`)).json()) as { stages: LatencyHistogram[] }).stages;
    const d2s = lat.find((x) => x.stage === 'decision_to_send')!;
    expect(d2s.counts.reduce((a, b) => a + b, 0)).toBe(d2s.n);
    expect(d2s.n).toBe(journal.latencyStats().decision_to_send!.n);
  });

  it('kill switch: needs the token in the header and {"confirm":"KILL"}; bad requests get 4xx and a log line, never a crash', async () => {
    const post = (body: string, headers: Record<string, string> = {}) => fetch(`${base}/api/kill`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    expect((await post('{"confirm":"KILL"}')).status).toBe(401);
    expect((await post('{"confirm":"KILL"}', { authorization: 'Bearer wrong-token-000000000' })).status).toBe(401);
    expect((await post('{"confirm":"KILL"}', { cookie: `tat_dashboard=${TOKEN}` })).status).toBe(401); // a cookie is not enough
    expect((await post('{not json', { authorization: `Bearer ${TOKEN}` })).status).toBe(400);
    expect((await post('{"confirm":"yes"}', { authorization: `Bearer ${TOKEN}` })).status).toBe(400);
    expect((await post('x'.repeat(10_000), { authorization: `Bearer ${TOKEN}` })).status).toBe(413);
    expect(kills).toEqual([]);
    const ok = await post('{"confirm":"KILL","reason":"unit test"}', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(202);
    expect(kills).toEqual(['dashboard: unit test']);
    expect((await fetch(`${base}/api/kill`)).status).toBe(405);
    expect((await fetch(`${base}/api/equity?points=abc`)).status).toBe(400);
    expect((await fetch(`${base}/api/equity?points=999999`)).status).toBe(400);
    expect((await fetch(`${base}/api/decisions?symbol=bad%20symbol`)).status).toBe(400);
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/api/summary?token=wrong-token-000000000`)).status).toBe(401);
    expect(await raw(server.port, '127.0.0.1', 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    // Still serving.
    expect((await fetch(`${base}/api/summary`)).status).toBe(200);
    const refused = log.lines.filter((l) => l.msg === 'dashboard: request refused' || l.msg === 'dashboard: malformed HTTP request refused');
    expect(refused.length).toBeGreaterThanOrEqual(12);
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN);
  });

  it('serves Prometheus text at /metrics', async () => {
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await r.text()).toContain('# TYPE trader_latency_ms histogram');
  });

  it('a port in use is a clear ConfigError', async () => {
    const other = new DashboardServer({ host: '127.0.0.1', port: server.port, logger: log.logger, mode: 'paper' });
    await expect(other.listen()).rejects.toThrow(`dashboard: 127.0.0.1:${server.port} is already in use: choose another --dashboard host:port`);
  });
});

describe('dashboard beyond loopback', () => {
  it('refuses to start without a token; with one, every request without it (or with a wrong one) is refused', async () => {
    const { logger } = captureLogger();
    expect(() => new DashboardServer({ host: '127.0.0.2', port: 0, logger, mode: 'paper' })).toThrow(/beyond loopback\) needs an access token/);
    const j = Journal.open(path.join(tmp(), 'j.db'));
    const s = new DashboardServer({ host: '127.0.0.2', port: 0, logger, mode: 'paper', token: TOKEN });
    await s.listen();
    s.attach({ journal: j });
    const b = `http://127.0.0.2:${s.port}`;
    try {
      for (const p of ['/', '/assets/uplot.js', '/api/summary', '/api/stream', '/metrics']) expect((await fetch(b + p)).status, p).toBe(401);
      expect((await fetch(b + '/api/summary', { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
      expect((await fetch(b + '/api/summary', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      const page = await fetch(`${b}/?token=${TOKEN}`);
      expect(page.status).toBe(200);
      const cookie = page.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await fetch(b + '/api/summary', { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    } finally {
      await s.close();
      j.close();
    }
  });
});

describe('read-only viewer and 100,000 journal rows', () => {
  it('never creates a missing journal', () => {
    const f = path.join(tmp(), 'missing.db');
    expect(() => Journal.openReadOnly(f)).toThrow(/cannot open journal .*missing\.db read-only/);
    expect(existsSync(f)).toBe(false);
  });

  it('ships bounded answers for a 100,000-candle journal, read-only', async () => {
    const file = path.join(tmp(), 'big.db');
    const w = Journal.open(file, { synchronous: 'normal' });
    const N = 100_000;
    w.transaction(() => {
      for (let i = 0; i < N; i++) {
        const ts = Date.UTC(2015, 0, 1) + i * 3_600_000;
        const id = w.recordDecision('BTCUSDT', { tsMs: ts, action: 'hold', side: 'flat', confidence: 0.3, agreement: 0.5, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasoning: 'r', outputs: { direction: { up: 0.4, down: 0.3, sideways: 0.3 } } });
        w.recordVerdict(id, { approved: true, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasons: [] });
        w.recordEquity('BTCUSDT', ts, 10_000 + i, 100 + (i % 50), 0);
        w.recordLatency('decision_to_send', (i % 100) / 10);
      }
    });
    w.close();
    const { logger } = captureLogger();
    const j = Journal.openReadOnly(file);
    const s = new DashboardServer({ host: '127.0.0.1', port: 0, logger, mode: 'viewer' });
    await s.listen();
    s.attach({ journal: j });
    const b = `http://127.0.0.1:${s.port}`;
    try {
      const timed = async (p: string) => {
        const t = performance.now();
        const r = await fetch(b + p);
        const text = await r.text();
        return { status: r.status, bytes: text.length, ms: performance.now() - t, body: JSON.parse(text) as unknown };
      };
      const eq = await timed('/api/equity?symbol=BTCUSDT&points=1500');
      const e = eq.body as EquitySeries;
      expect(e.total).toBe(N);
      expect(e.ts.length).toBeLessThanOrEqual(1500);
      expect(e.ts.length).toBeGreaterThan(1400);
      expect(e.equity[e.equity.length - 1]).toBe(10_000 + N - 1);
      const heads = await timed('/api/heads?symbol=BTCUSDT&points=1500');
      expect((heads.body as HeadsSeries).ts.length).toBeLessThanOrEqual(1500);
      const dec = await timed('/api/decisions?limit=50');
      expect((dec.body as { rows: DecisionRow[] }).rows).toHaveLength(50);
      const sum = await timed('/api/summary');
      const lat = await timed('/api/latency');
      for (const r of [eq, heads, dec, sum, lat]) {
        expect(r.status).toBe(200);
        expect(r.bytes).toBeLessThan(200_000);
      }
      console.log(`100k-row journal: equity ${eq.ms.toFixed(0)} ms ${eq.bytes} B, heads ${heads.ms.toFixed(0)} ms, decisions ${dec.ms.toFixed(0)} ms, summary ${sum.ms.toFixed(0)} ms, latency ${lat.ms.toFixed(0)} ms`);
      // The viewer: no kill switch, no stream, no metrics.
      expect((await fetch(b + '/api/kill', { method: 'POST', body: '{"confirm":"KILL"}', headers: { authorization: `Bearer ${s.token}` } })).status).toBe(403);
      expect((await fetch(b + '/api/stream')).status).toBe(404);
    } finally {
      await s.close();
      j.close();
    }
  }, 120_000);
});

describe('parseListen', () => {
  it('reads host:port, :port, port and [v6]:port; rejects junk', () => {
    expect(parseListen('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen(':9001')).toEqual({ host: '127.0.0.1', port: 9001 });
    expect(parseListen('9002')).toEqual({ host: '127.0.0.1', port: 9002 });
    expect(parseListen('0.0.0.0')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('[::1]:9003')).toEqual({ host: '::1', port: 9003 });
    expect(() => parseListen('127.0.0.1:99999')).toThrow(/port must be 0-65535/);
    expect(() => parseListen('a b:1')).toThrow(/host is not valid/);
  });
});
