import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRest, signaturesEqual } from '../signing.js';
import { SimAccount, SimReject } from './accounts.js';
import { FaultInjector } from './faults.js';
import { SimMarket, type FeedState, type SimFeed } from './market.js';
import * as pub from './rest-public.js';
import * as priv from './rest-private.js';
import { WsHub } from './ws-hub.js';
import { PrivateWsHub } from './ws-private.js';
import { simulatorOptionsSchema, type SimulatorOptions, type SimulatorOptionsInput } from './options.js';

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number;
  readonly retCode: number | undefined;
  readonly wallMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A Bybit v5-compatible server on 127.0.0.1 (REST + public WebSocket), fed by candles, with a
 * controllable clock: `advance(n)` closes n bars at once (tests), `play(barMs)` replays in real or
 * accelerated time. Private endpoints check the HMAC signature (retCode 10004 when wrong).
 */
export class BybitSimulator {
  readonly market: SimMarket;
  readonly account: SimAccount;
  readonly faults = new FaultInjector();
  readonly hub: WsHub;
  readonly privateHub: PrivateWsHub;
  readonly requests: RequestLogEntry[] = [];
  readonly options: SimulatorOptions;
  private server: Server | undefined;
  private port = 0;
  private bannedUntilWallMs = 0;
  private readonly ipWindow: number[] = [];
  private readonly endpointWindows = new Map<string, { resetMs: number; used: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(feeds: readonly SimFeed[], options: SimulatorOptionsInput = {}) {
    this.options = simulatorOptionsSchema.parse(options);
    this.market = new SimMarket(feeds, this.options.startMs);
    this.account = new SimAccount(this.market, this.options);
    this.hub = new WsHub(this.market, this.faults);
    this.privateHub = new PrivateWsHub(this.market, this.account, this.options);
  }

  /** Starts listening on 127.0.0.1 (port 0 = a free port). */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => {
      if ((req.url ?? '').split('?')[0] === '/v5/private') this.privateHub.handleUpgrade(req, socket, head);
      else this.hub.handleUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.pause();
    this.hub.close();
    this.privateHub.close();
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsPublicUrl(): string {
    return `ws://127.0.0.1:${this.port}/v5/public/linear`;
  }

  get wsPrivateUrl(): string {
    return `ws://127.0.0.1:${this.port}/v5/private`;
  }

  get nowMs(): number {
    return this.market.nowMs;
  }

  /** Closes the next `bars` bars of the base interval, pushing every WebSocket message they produce. */
  advance(bars = 1): void {
    for (let k = 0; k < bars; k++) {
      const before = this.market.nowMs;
      const target = before + this.market.baseIntervalMs;
      // Every bar of every feed that closes in (before, target], in time order (feeds may differ).
      const events: { f: FeedState; n: number; endMs: number }[] = [];
      for (const f of this.market.feeds.values()) {
        for (let n = this.market.closedCount(f, before); n < f.candles.length && f.candles.tsMs[n]! + f.intervalMs <= target; n++) {
          events.push({ f, n, endMs: f.candles.tsMs[n]! + f.intervalMs });
        }
      }
      events.sort((a, b) => a.endMs - b.endMs);
      for (const e of events) {
        this.market.nowMs = Math.max(this.market.nowMs, e.endMs);
        this.account.onBarClosed(e.f, e.n);
        this.hub.onBarClosed(e.f, e.n);
      }
      this.market.nowMs = target;
    }
  }

  /** Replays one bar every `barMs` of wall time (barMs = interval for real time). */
  play(barMs: number): void {
    this.pause();
    this.timer = setInterval(() => this.advance(1), barMs);
  }

  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fault: drop every WebSocket connection (public and private). Returns how many were dropped. */
  dropWebSockets(): number {
    return this.hub.dropAll() + this.privateHub.dropAll();
  }

  /** Number of logged requests whose path starts with `prefix`. */
  count(prefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  private send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain', ...headers });
    res.end(body);
  }

  private envelope(result: unknown, retCode = 0, retMsg = 'OK'): string {
    return JSON.stringify({ retCode, retMsg, result: result ?? {}, retExtInfo: {}, time: this.market.nowMs });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
    const log = (status: number, retCode?: number): void => {
      this.requests.push({ method: req.method ?? 'GET', path, query: rawQuery, status, retCode, wallMs: Date.now() });
    };
    const wall = Date.now();
    if (wall < this.bannedUntilWallMs) {
      log(403);
      return this.send(res, 403, 'Forbidden: IP rate limit exceeded');
    }
    // Bybit's IP limit: more than N requests in 5 s -> 403 and a ban.
    this.ipWindow.push(wall);
    while (this.ipWindow.length && this.ipWindow[0]! < wall - 5000) this.ipWindow.shift();
    if (this.ipWindow.length > this.options.ipLimitPer5s) {
      this.bannedUntilWallMs = wall + this.options.ipBanMs;
      log(403);
      return this.send(res, 403, 'Forbidden: IP rate limit exceeded');
    }
    const fault = this.faults.takeRest(path);
    if (fault?.kind === 'http403') {
      this.bannedUntilWallMs = wall + (fault.banMs ?? this.options.ipBanMs);
      log(403);
      return this.send(res, 403, 'Forbidden: IP rate limit exceeded');
    }
    if (fault?.kind === 'http429') {
      log(429);
      return this.send(res, 429, 'Too Many Requests');
    }
    if (fault?.kind === 'http5xx') {
      const st = fault.status ?? 502;
      log(st);
      return this.send(res, st, 'Bad Gateway');
    }
    if (fault?.kind === 'retCode10006') {
      const reset = wall + (fault.resetInMs ?? 1000);
      log(200, 10006);
      return this.send(res, 200, this.envelope({}, 10006, 'Too many visits!'), { 'X-Bapi-Limit': '10', 'X-Bapi-Limit-Status': '0', 'X-Bapi-Limit-Reset-Timestamp': String(reset) });
    }
    if (fault?.kind === 'malformed') {
      log(200);
      return this.send(res, 200, '{"retCode":0,"retMsg":"OK","result":{"list":[["17');
    }
    const body = await readBody(req);
    // The body is in: a held request is still processed after the client gave up on it.
    if (fault?.kind === 'delayBefore') await sleep(fault.ms);
    if (fault?.kind === 'hold') await Promise.resolve(fault.until).catch(() => undefined);
    let status = 200;
    let text: string;
    let headers: Record<string, string> = {};
    let retCode = 0;
    try {
      const out = this.route(req, path, url.searchParams, rawQuery, body);
      headers = out.headers;
      text = this.envelope(out.result);
    } catch (err) {
      if (err instanceof SimReject) {
        retCode = err.retCode;
        headers = err.headers;
        text = this.envelope({}, err.retCode, err.retMsg);
      } else if (err instanceof HttpStatus) {
        status = err.status;
        text = err.message;
      } else {
        status = 500;
        text = `internal simulator error: ${(err as Error).message}`;
      }
    }
    log(status, status === 200 ? retCode : undefined);
    if (fault?.kind === 'delayAfter') await sleep(fault.ms);
    this.send(res, status, text, headers);
  }

  private route(req: IncomingMessage, path: string, q: URLSearchParams, rawQuery: string, body: string): { result: unknown; headers: Record<string, string> } {
    const m = this.market;
    const get = req.method === 'GET';
    const none: Record<string, string> = {};
    switch (path) {
      case '/v5/market/time': return { result: pub.serverTime(m), headers: none };
      case '/v5/market/instruments-info': return { result: pub.instrumentsInfo(m, q), headers: none };
      case '/v5/market/kline': return { result: pub.kline(m, q), headers: none };
      case '/v5/market/tickers': return { result: pub.tickers(m, q), headers: none };
      case '/v5/market/orderbook': return { result: pub.orderbook(m, q), headers: none };
      case '/v5/market/funding/history': return { result: pub.fundingHistory(m, q), headers: none };
      case '/v5/market/open-interest': return { result: pub.openInterest(m, q), headers: none };
      default:
    }
    const priv_ = ['/v5/asset/coin/query-info', '/v5/order/create', '/v5/order/cancel', '/v5/position/set-leverage', '/v5/account/set-margin-mode', '/v5/order/realtime', '/v5/order/history', '/v5/position/list', '/v5/account/wallet-balance'];
    if (!priv_.includes(path)) throw new HttpStatus(404, `Not Found: ${path}`);
    const apiKey = this.authenticate(req, get ? rawQuery : body);
    const headers = this.endpointLimit(apiKey, path);
    let json: pub.JsonObject = {};
    if (!get) {
      try {
        json = JSON.parse(body || '{}') as pub.JsonObject;
      } catch {
        throw new SimReject(10001, 'params error: body is not JSON');
      }
    }
    const a = this.account;
    switch (path) {
      case '/v5/asset/coin/query-info': return { result: priv.coinInfo(), headers };
      case '/v5/order/create': return { result: priv.createOrder(a, json), headers };
      case '/v5/order/cancel': return { result: priv.cancelOrder(a, json), headers };
      case '/v5/position/set-leverage': return { result: priv.setLeverage(a, json), headers };
      case '/v5/account/set-margin-mode': return { result: priv.setMarginMode(a, json), headers };
      case '/v5/order/realtime': return { result: priv.realtimeOrders(m, a, q), headers };
      case '/v5/order/history': return { result: priv.historyOrders(m, a, q), headers };
      case '/v5/position/list': return { result: priv.positionList(m, a, q), headers };
      default: return { result: priv.walletBalance(a, q), headers };
    }
  }

  /** Checks X-BAPI-* headers: known key (10003), fresh timestamp (10002), signature (10004). */
  private authenticate(req: IncomingMessage, payload: string): string {
    const h = (n: string): string => String(req.headers[n.toLowerCase()] ?? '');
    const key = h('X-BAPI-API-KEY');
    const ts = h('X-BAPI-TIMESTAMP');
    const recv = h('X-BAPI-RECV-WINDOW') || '5000';
    const sign = h('X-BAPI-SIGN');
    if (!key || key !== this.options.apiKey) throw new SimReject(10003, 'API key is invalid.');
    const t = Number(ts);
    if (!Number.isFinite(t) || Math.abs(Date.now() - t) > Number(recv)) {
      throw new SimReject(10002, 'invalid request, please check your server timestamp or recv_window param');
    }
    const expected = signRest(this.options.apiSecret, ts, key, recv, payload);
    if (!signaturesEqual(expected, sign.toLowerCase())) throw new SimReject(10004, 'error sign! origin_string[' + ts + key + recv + payload + ']');
    return key;
  }

  /** Per-key, per-endpoint limit over 1 s windows, reported in X-Bapi-Limit-* headers (10006 when exceeded). */
  private endpointLimit(apiKey: string, path: string): Record<string, string> {
    const limit = path === '/v5/order/create' || path === '/v5/order/cancel' ? this.options.orderLimitPerSecond : this.options.privateLimitPerSecond;
    const now = Date.now();
    const key = `${apiKey}|${path}`;
    let w = this.endpointWindows.get(key);
    if (!w || now >= w.resetMs) {
      w = { resetMs: now + 1000, used: 0 };
      this.endpointWindows.set(key, w);
    }
    w.used++;
    const headers = { 'X-Bapi-Limit': String(limit), 'X-Bapi-Limit-Status': String(Math.max(0, limit - w.used)), 'X-Bapi-Limit-Reset-Timestamp': String(w.resetMs) };
    if (w.used > limit) throw new SimReject(10006, 'Too many visits!', headers);
    return headers;
  }
}

class HttpStatus extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
