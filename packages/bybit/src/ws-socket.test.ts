import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { generateSyntheticMarket, type ClosedCandle } from '@task-agnostic/core';
import { BybitSimulator } from './testing/index.js';
import { BybitClient } from './client.js';
import { BybitSocket } from './ws-socket.js';
import { backoffMs } from './rate-limit.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('socket discipline', () => {
  const cleanup: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('a silent server (no pong) is detected after ping interval + pong timeout, and the socket reconnects', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    let connections = 0;
    wss.on('connection', () => connections++);
    cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const s = new BybitSocket(url, { pingIntervalMs: 30, pongTimeoutMs: 30, reconnectBaseMs: 10, reconnectMaxMs: 20 }, { onPush: () => undefined });
    cleanup.push(() => s.close());
    s.start();
    const t0 = Date.now();
    while ((connections < 2 || s.stats.drops < 1) && Date.now() - t0 < 5000) await sleep(5);
    expect({ connections: connections >= 2, drops: s.stats.drops >= 1, pings: s.stats.pingsSent >= 1, pongs: s.stats.pongs }).toEqual({ connections: true, drops: true, pings: true, pongs: 0 });
    for (const c of wss.clients) c.terminate();
  });

  it('backoff grows exponentially, is capped, and its jitter stays within [half, full]', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('real-time style replay with play(): the stream follows the clock, exactly once', async () => {
    const src = generateSyntheticMarket({ bars: 300, seed: 8, interval: '1h' }).candles;
    const sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: src }], { startMs: src.tsMs[100]! }).start();
    const client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl });
    cleanup.push(async () => {
      client.close();
      await sim.close();
    });
    const got: ClosedCandle[] = [];
    await client.streamCandles(['BTCUSDT'], '1h', (c) => got.push(c));
    sim.play(10);
    const t0 = Date.now();
    while (got.length < 30 && Date.now() - t0 < 10_000) await sleep(5);
    sim.pause();
    await sleep(50);
    const closed = sim.market.closedCount(sim.market.feed('BTCUSDT')!);
    expect(got.map((c) => c.candle.tsMs)).toEqual(Array.from(src.tsMs.subarray(100, closed)));
  });
});
