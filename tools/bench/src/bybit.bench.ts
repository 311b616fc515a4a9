// Bybit client figures, all on loopback against the simulator (no network):
// 1. Kline paging: two years of 1h candles (18 pages of <= 1000) through BybitClient (ccxt transport,
//    typed parsing, open-bar drop) against a bare fetch + JSON.parse of the same 18 URLs (the floor).
// 2. Stream latency: simulator push -> closed candle delivered by the exactly-once stream, against
//    a raw `ws` socket subscribed to the same topic (the floor), over 300 bars.
// 3. Construction cost: new BybitClient (ccxt loaded lazily) against the first request, which
//    pays the ccxt import (~1 s per TOOLCHAIN.md).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSyntheticMarket, INTERVAL_MS } from '@task-agnostic/core';
import { BybitClient } from '@task-agnostic/bybit';
import { BybitSimulator } from '@task-agnostic/bybit/testing';
import { percentiles, printTable } from './data-dir.js';

// `ws` is the bybit package's dependency, not the bench's: load the same copy it uses.
type RawSocket = { once(e: string, f: () => void): void; on(e: string, f: (m: Buffer) => void): void; send(s: string): void; close(): void };
const WebSocket = createRequire(fileURLToPath(import.meta.resolve('@task-agnostic/bybit')))('ws') as new (url: string) => RawSocket;

const H = INTERVAL_MS['1h'];
const bars = 2 * 365 * 24 + 500;
const candles = generateSyntheticMarket({ bars, seed: 1, interval: '1h', startMs: Date.UTC(2022, 0, 1) }).candles;

const t0 = performance.now();
const client = new BybitClient({ mode: 'custom', restUrl: 'http://127.0.0.1:1', wsPublicUrl: 'ws://127.0.0.1:1' });
const constructMs = performance.now() - t0;
client.close();

const sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles }]).start();
const c = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, ws: { reconnectBaseMs: 20 } });
const t1 = performance.now();
await c.serverTime();
const firstRequestMs = performance.now() - t1;
const end = candles.tsMs[candles.length - 1]! + H;
const start = end - 2 * 365 * 24 * H;

async function bare(): Promise<number> {
  let n = 0;
  for (let from = start; from < end; from += 1000 * H) {
    const to = Math.min(from + 1000 * H, end);
    const r = (await (await fetch(`${sim.restUrl}/v5/market/kline?category=linear&symbol=BTCUSDT&interval=60&start=${from}&end=${to - 1}&limit=1000`)).json()) as { result: { list: string[][] } };
    n += r.result.list.length;
  }
  return n;
}
const ours: number[] = [];
const floor: number[] = [];
await c.fetchCandles('BTCUSDT', '1h', start, end); // warm-up (ccxt load)
await bare();
for (let i = 0; i < 7; i++) {
  let t = performance.now();
  const got = await c.fetchCandles('BTCUSDT', '1h', start, end);
  ours.push(performance.now() - t);
  if (got.length !== 17_520) throw new Error(`expected 17520 candles, got ${got.length}`);
  t = performance.now();
  await bare();
  floor.push(performance.now() - t);
}
const po = percentiles(ours).median;
const pf = percentiles(floor).median;

// Stream latency: advance one bar at a time and time both consumers.
await sim.close();
const sim2 = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles }], { startMs: candles.tsMs[1000]! }).start();
const c2 = new BybitClient({ mode: 'custom', restUrl: sim2.restUrl, wsPublicUrl: sim2.wsPublicUrl });
let sentAt = 0;
const lat: number[] = [];
const rawLat: number[] = [];
await c2.streamCandles(['BTCUSDT'], '1h', () => lat.push(performance.now() - sentAt));
const raw = new WebSocket(sim2.wsPublicUrl);
await new Promise<void>((r) => raw.once('open', () => r()));
raw.send(JSON.stringify({ op: 'subscribe', args: ['kline.60.BTCUSDT'] }));
raw.on('message', (m) => {
  const msg = JSON.parse(m.toString()) as { data?: { confirm?: boolean }[] };
  if (msg.data?.[0]?.confirm) rawLat.push(performance.now() - sentAt);
});
await new Promise((r) => setTimeout(r, 300));
for (let k = 0; k < 300; k++) {
  const before = lat.length;
  sentAt = performance.now();
  sim2.advance(1);
  while (lat.length === before || rawLat.length < lat.length) await new Promise((r) => setImmediate(r));
}
raw.close();
c2.close();
c.close();
await sim2.close();
const sl = percentiles(lat);
const rl = percentiles(rawLat);

printTable([
  ['figure', 'ours', 'baseline', 'baseline value', 'ratio (ours/baseline)'],
  ['2 y of 1h klines, 18 pages, median ms', po, 'bare fetch+JSON.parse', pf, po / pf],
  ['closed candle push -> consumer, median ms', sl.median, 'raw ws socket', rl.median, sl.median / rl.median],
  ['closed candle push -> consumer, p99 ms', sl.p99, 'raw ws socket', rl.p99, sl.p99 / rl.p99],
  ['new BybitClient (lazy ccxt), ms', constructMs, 'first request (loads ccxt)', firstRequestMs, constructMs / firstRequestMs],
]);
