import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, type Balance, type Fill, type Order, type Position } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from './testing/index.js';
import { BybitClient } from './client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for the condition');
    await sleep(5);
  }
}
const m = generateSyntheticMarket({ bars: 300, seed: 17, interval: '1h', startMs: Date.UTC(2024, 0, 1) });

describe('private WebSocket (order, execution, position, wallet)', () => {
  let sim: BybitSimulator | undefined;
  let client: BybitClient | undefined;
  afterEach(async () => {
    client?.close();
    await sim?.close();
  });
  const setup = async (secret = SIM_API_SECRET): Promise<[BybitSimulator, BybitClient]> => {
    sim = await new BybitSimulator([{ symbol: 'BTCUSDT', interval: '1h', candles: m.candles }], { startMs: m.candles.tsMs[100]! }).start();
    client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, wsPrivateUrl: sim.wsPrivateUrl, apiKey: SIM_API_KEY, apiSecret: secret, ws: { reconnectBaseMs: 20, reconnectMaxMs: 100 } });
    return [sim, client];
  };

  it('authenticates, then pushes the order, its execution, the position and the wallet; re-auths after a drop', async () => {
    const [s, c] = await setup();
    const orders: Order[] = [];
    const fills: Fill[] = [];
    const positions: (Position | undefined)[] = [];
    const wallets: Balance[] = [];
    const ps = c.privateStream({ onOrder: (o) => orders.push(o), onExecution: (f) => fills.push(f), onPosition: (_s, p) => positions.push(p), onWallet: (b) => wallets.push(b) });
    expect(inspect(ps, { showHidden: true, depth: 6 })).not.toContain(SIM_API_SECRET);
    await until(() => ps.socket.isOpen);
    expect(s.privateHub.stats.authOk).toBe(1);
    await c.placeOrder({ symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, clientOrderId: 'ws-1' });
    await until(() => wallets.length >= 1 && orders.length >= 1);
    expect(fills[0]).toMatchObject({ clientOrderId: 'ws-1', qty: 0.01, side: 'buy', liquidity: 'taker', price: m.candles.close[99] });
    expect(orders[orders.length - 1]).toMatchObject({ clientOrderId: 'ws-1', status: 'filled' });
    expect(positions[0]).toMatchObject({ side: 'long', qty: 0.01 });
    expect(wallets[0]).toEqual(await c.balance());
    // Drop: the socket reconnects, authenticates again and keeps its topics.
    s.dropWebSockets();
    await until(() => s.privateHub.stats.authOk === 2 && ps.socket.isOpen);
    await sleep(20);
    await c.placeOrder({ symbol: 'BTCUSDT', side: 'sell', type: 'market', qty: 0.01, reduceOnly: true, clientOrderId: 'ws-2' });
    await until(() => fills.length === 2 && positions.length === 2);
    expect(positions[1]).toBeUndefined(); // flat again
    ps.close();
  });

  it('a wrong secret fails auth once, is reported, and is not retried', async () => {
    const [s, c] = await setup('notTheSecret_0000000000');
    const errors: Error[] = [];
    const ps = c.privateStream({ onOrder: () => undefined, onError: (e) => errors.push(e) });
    await until(() => errors.length === 1);
    await sleep(150);
    expect(errors[0]!.message).toMatch(/auth failed/);
    expect(errors[0]!.message).not.toContain('notTheSecret_0000000000');
    expect(s.privateHub.stats).toMatchObject({ authFailed: 1, authOk: 0, connections: 1 });
    expect(ps.socket.stats.authFailures).toBe(1);
  });
});
