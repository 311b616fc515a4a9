import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookAlerts, type AlertPayload } from './alerts.js';
import { captureLogger } from './test-kit.js';

/** A local webhook receiver on 127.0.0.1 answering with the given statuses in turn (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; got: { at: number; body: AlertPayload; type: string | undefined }[]; server: Server }> {
  const got: { at: number; body: AlertPayload; type: string | undefined }[] = [];
  let i = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      got.push({ at: performance.now(), body: JSON.parse(raw) as AlertPayload, type: req.headers['content-type'] });
      res.writeHead(statuses[i++] ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

describe('WebhookAlerts', () => {
  it('POSTs the alert as JSON and retries 5xx with exponential backoff until it lands', async () => {
    const r = await receiver([500, 503]);
    servers.push(r.server);
    const { logger } = captureLogger();
    const a = new WebhookAlerts({ url: r.url, baseDelayMs: 40, attempts: 5, source: 'unit.db' }, logger);
    a.notify({ kind: 'kill-switch', message: 'BTCUSDT: kill switch engaged', data: { symbol: 'BTCUSDT' } });
    await a.flush();
    expect(r.got).toHaveLength(3);
    expect(r.got[2]!.type).toBe('application/json');
    expect(r.got[2]!.body).toMatchObject({ kind: 'kill-switch', message: 'BTCUSDT: kill switch engaged', source: 'unit.db', data: { symbol: 'BTCUSDT' } });
    expect(Date.parse(r.got[2]!.body.ts)).toBeGreaterThan(0);
    // Backoff 40 ms then 80 ms (timer granularity: a few ms early at most).
    expect(r.got[1]!.at - r.got[0]!.at).toBeGreaterThanOrEqual(35);
    expect(r.got[2]!.at - r.got[1]!.at).toBeGreaterThanOrEqual(75);
    expect(a.stats).toMatchObject({ sent: 1, failed: 0, attempts: 3 });
  });

  it('gives up after the attempts with an error log line, does not retry a 400, and keeps order', async () => {
    const r = await receiver([500, 500, 500, 400, 200]);
    servers.push(r.server);
    const { logger, lines } = captureLogger();
    const a = new WebhookAlerts({ url: r.url, baseDelayMs: 1, attempts: 3 }, logger);
    a.notify({ kind: 'order-rejected', message: 'first' });
    a.notify({ kind: 'daily-loss-halt', message: 'second' });
    a.notify({ kind: 'deployment-gate', message: 'third' });
    await a.flush();
    expect(r.got.map((g) => g.body.message)).toEqual(['first', 'first', 'first', 'second', 'third']);
    expect(a.stats).toMatchObject({ sent: 1, failed: 2, attempts: 5 });
    const failed = lines.filter((l) => l.msg === 'alert webhook failed: alert not delivered');
    expect(failed.map((l) => [l.alert, l.error])).toEqual([['order-rejected', 'HTTP 500'], ['daily-loss-halt', 'HTTP 400']]);
  });

  it('an unreachable receiver fails the alert without throwing; a bad URL is a ConfigError', async () => {
    const r = await receiver([]);
    const url = r.url;
    await new Promise<void>((res) => r.server.close(() => res()));
    const { logger, lines } = captureLogger();
    const a = new WebhookAlerts({ url, baseDelayMs: 1, attempts: 2, timeoutMs: 500 }, logger);
    a.notify({ kind: 'disconnect', message: 'down' });
    await a.flush();
    expect(a.stats.failed).toBe(1);
    expect(lines.some((l) => l.msg === 'alert webhook failed: alert not delivered')).toBe(true);
    expect(() => new WebhookAlerts({ url: 'not a url' }, logger)).toThrow(/alert webhook: url/);
    expect(() => new WebhookAlerts({ url: 'ftp://127.0.0.1/x' }, logger)).toThrow(/http\(s\)/);
  });
});
