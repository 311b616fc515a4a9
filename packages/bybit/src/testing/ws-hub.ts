import { formatDecimal, lowerBound } from '@task-agnostic/core';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { BYBIT_INTERVAL, bybitIntervalMs } from '../intervals.js';
import { aggregated, partialBar } from './aggregate.js';
import { diffSide, syntheticBook, type Level } from './book.js';
import type { FaultInjector } from './faults.js';
import type { FeedState, SimMarket } from './market.js';
import { tickerOf } from './rest-public.js';

const DEPTHS = new Set([1, 50, 200, 500]);

interface Conn {
  readonly id: string;
  readonly socket: WebSocket;
  readonly topics: Set<string>;
}

interface BookTopic {
  bids: Level[];
  asks: Level[];
  u: number;
  seq: number;
}

export interface WsStats {
  connections: number;
  pings: number;
  subscribes: number;
  pushes: number;
}

/** The public WebSocket (/v5/public/linear) of the simulator. */
export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Conn>();
  private readonly books = new Map<string, BookTopic>();
  private readonly lastTicker = new Map<string, Record<string, unknown>>();
  private heldKline: { topic: string; data: string } | undefined;
  private nextConn = 1;
  private tradeSeq = 1;
  readonly stats: WsStats = { connections: 0, pings: 0, subscribes: 0, pushes: 0 };

  constructor(private readonly market: SimMarket, private readonly faults: FaultInjector) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v5/public/linear') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  get openConnections(): number {
    return this.conns.size;
  }

  /** Fault: terminate every WebSocket connection at once (no close frame). */
  dropAll(): number {
    return terminateAll(this.conns);
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }

  private onConnection(socket: WebSocket): void {
    const conn: Conn = { id: `sim-${this.nextConn++}`, socket, topics: new Set() };
    this.conns.add(conn);
    this.stats.connections++;
    socket.on('close', () => this.conns.delete(conn));
    socket.on('error', () => this.conns.delete(conn));
    socket.on('message', (raw) => this.onMessage(conn, raw.toString()));
  }

  private reply(conn: Conn, msg: Record<string, unknown>): void {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(JSON.stringify(msg));
  }

  private onMessage(conn: Conn, text: string): void {
    let msg: { op?: string; args?: unknown; req_id?: string };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.reply(conn, { success: false, ret_msg: 'error:request not json', conn_id: conn.id, op: '' });
      return;
    }
    const base = { conn_id: conn.id, req_id: msg.req_id, op: msg.op };
    if (msg.op === 'ping') {
      this.stats.pings++;
      this.reply(conn, { success: true, ret_msg: 'pong', ...base });
      return;
    }
    if (msg.op !== 'subscribe' && msg.op !== 'unsubscribe') {
      this.reply(conn, { success: false, ret_msg: `error:unknown op ${String(msg.op)}`, ...base });
      return;
    }
    const args = Array.isArray(msg.args) ? (msg.args as unknown[]).map(String) : [];
    const bad = args.find((t) => !this.validTopic(t));
    if (bad !== undefined || args.length === 0) {
      this.reply(conn, { success: false, ret_msg: `Invalid topic: ${bad ?? '(none)'}`, ...base });
      return;
    }
    if (msg.op === 'unsubscribe') {
      for (const t of args) conn.topics.delete(t);
      this.reply(conn, { success: true, ret_msg: '', ...base });
      return;
    }
    this.stats.subscribes++;
    for (const t of args) conn.topics.add(t);
    this.reply(conn, { success: true, ret_msg: '', ...base });
    for (const t of args) this.sendInitial(conn, t);
  }

  private validTopic(t: string): boolean {
    const parts = t.split('.');
    const f = this.market.feed(parts[parts.length - 1]!);
    if (!f) return false;
    if (parts[0] === 'kline') {
      const ms = bybitIntervalMs(parts[1] ?? '');
      return parts.length === 3 && ms !== undefined && ms >= f.intervalMs && ms % f.intervalMs === 0;
    }
    if (parts[0] === 'orderbook') return parts.length === 3 && DEPTHS.has(Number(parts[1]));
    return parts.length === 2 && (parts[0] === 'publicTrade' || parts[0] === 'tickers');
  }

  private sendInitial(conn: Conn, topic: string): void {
    const parts = topic.split('.');
    const f = this.market.feed(parts[parts.length - 1]!)!;
    if (parts[0] === 'orderbook') {
      const b = this.bookTopic(f, Number(parts[1]));
      this.push(conn, { topic, type: 'snapshot', ts: this.market.nowMs, data: { s: f.symbol, b: b.bids, a: b.asks, u: b.u, seq: b.seq }, cts: this.market.nowMs });
    } else if (parts[0] === 'tickers') {
      const t = tickerOf(this.market, f);
      this.lastTicker.set(f.symbol, t);
      this.push(conn, { topic, type: 'snapshot', data: t, cs: 1, ts: this.market.nowMs });
    } else if (parts[0] === 'kline') {
      if (parts[1] === BYBIT_INTERVAL[f.interval]) {
        const i = this.market.openIndex(f);
        if (i >= 0) this.push(conn, { topic, type: 'snapshot', ts: this.market.nowMs, data: [this.klineData(f, i, false)] });
      } else {
        const aggMs = bybitIntervalMs(parts[1]!)!;
        this.push(conn, { topic, type: 'snapshot', ts: this.market.nowMs, data: [this.aggOpenData(f, aggMs, parts[1]!)] });
      }
    }
  }

  private bookTopic(f: FeedState, depth: number): BookTopic {
    const key = `${depth}.${f.symbol}`;
    let b = this.books.get(key);
    if (!b) {
      const s = syntheticBook(this.market, f, depth, this.market.closedCount(f));
      b = { bids: s.bids, asks: s.asks, u: 1, seq: 1 };
      this.books.set(key, b);
    }
    return b;
  }

  private klineData(f: FeedState, i: number, confirm: boolean): Record<string, unknown> {
    const c = f.candles;
    const o = formatDecimal(c.open[i]!);
    const closed = confirm;
    return {
      start: c.tsMs[i], end: c.tsMs[i]! + f.intervalMs - 1, interval: BYBIT_INTERVAL[f.interval],
      open: o, close: closed ? formatDecimal(c.close[i]!) : o, high: closed ? formatDecimal(c.high[i]!) : o, low: closed ? formatDecimal(c.low[i]!) : o,
      volume: closed ? formatDecimal(c.volume[i]!) : '0', turnover: closed ? formatDecimal(c.turnover[i]!) : '0', confirm, timestamp: this.market.nowMs,
    };
  }

  /** The open bucket of an aggregated interval, as known now. */
  private aggOpenData(f: FeedState, aggMs: number, bi: string): Record<string, unknown> {
    const b = Math.floor(this.market.nowMs / aggMs) * aggMs;
    const [o, h, l, c, v, t] = partialBar(this.market, f, b).map((x) => formatDecimal(x));
    return { start: b, end: b + aggMs - 1, interval: bi, open: o, close: c, high: h, low: l, volume: v, turnover: t, confirm: false, timestamp: this.market.nowMs };
  }

  /** Pushes for kline topics at multiples of the feed's interval (closed bucket, then the new open one). */
  private pushAggregated(f: FeedState, i: number): void {
    const now = this.market.nowMs;
    const intervals = new Set<string>();
    for (const c of this.conns) {
      for (const t of c.topics) {
        const p = t.split('.');
        if (p[0] === 'kline' && p[2] === f.symbol && p[1] !== BYBIT_INTERVAL[f.interval]) intervals.add(p[1]!);
      }
    }
    for (const bi of intervals) {
      const aggMs = bybitIntervalMs(bi)!;
      const topic = `kline.${bi}.${f.symbol}`;
      const barEnd = f.candles.tsMs[i]! + f.intervalMs;
      if (barEnd % aggMs === 0) {
        const agg = aggregated(f, aggMs);
        const b = barEnd - aggMs;
        const k = lowerBound(agg, b);
        if (k < agg.length && agg.tsMs[k] === b) {
          const data = {
            start: b, end: barEnd - 1, interval: bi, open: formatDecimal(agg.open[k]!), close: formatDecimal(agg.close[k]!), high: formatDecimal(agg.high[k]!),
            low: formatDecimal(agg.low[k]!), volume: formatDecimal(agg.volume[k]!), turnover: formatDecimal(agg.turnover[k]!), confirm: true, timestamp: now,
          };
          this.broadcast(topic, JSON.stringify({ topic, type: 'snapshot', ts: now, data: [data] }));
        }
      }
      this.broadcast(topic, JSON.stringify({ topic, type: 'snapshot', ts: now, data: [this.aggOpenData(f, aggMs, bi)] }));
    }
  }

  private push(conn: Conn, msg: Record<string, unknown>): void {
    this.pushRaw(conn, JSON.stringify(msg));
  }

  private pushRaw(conn: Conn, text: string): void {
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    if (this.faults.takeWs('malformed')) conn.socket.send('{"topic":"kline.60.BTCUSDT","data":[{"start":');
    conn.socket.send(text);
    this.stats.pushes++;
  }

  private broadcast(topic: string, text: string): void {
    for (const c of this.conns) if (c.topics.has(topic)) this.pushRaw(c, text);
  }

  /** Pushes everything that bar `i` of `f` closing produces (the clock already stands at its end). */
  onBarClosed(f: FeedState, i: number): void {
    const now = this.market.nowMs;
    const c = f.candles;
    // publicTrade: two prints inside the bar, the last at the close.
    const tradeTopic = `publicTrade.${f.symbol}`;
    const trades = [c.high[i]!, c.close[i]!].map((p, k) => ({
      T: now - 2 + k, s: f.symbol, S: k === 0 ? 'Buy' : 'Sell', v: '0.001', p: this.market.fmtPrice(f, p), L: 'PlusTick', i: `sim-${this.tradeSeq}`, BT: false, seq: this.tradeSeq++,
    }));
    this.broadcast(tradeTopic, JSON.stringify({ topic: tradeTopic, type: 'snapshot', ts: now, data: trades }));
    // kline: the closed bar (confirm=true), then the new open bar.
    const kTopic = `kline.${BYBIT_INTERVAL[f.interval]}.${f.symbol}`;
    const closedMsg = JSON.stringify({ topic: kTopic, type: 'snapshot', ts: now, data: [this.klineData(f, i, true)] });
    if (this.heldKline && this.heldKline.topic === kTopic) {
      this.broadcast(kTopic, closedMsg);
      this.broadcast(kTopic, this.heldKline.data);
      this.heldKline = undefined;
    } else if (this.faults.takeWs('outOfOrderKline')) {
      this.heldKline = { topic: kTopic, data: closedMsg };
    } else {
      this.broadcast(kTopic, closedMsg);
      if (this.faults.takeWs('duplicateKline')) this.broadcast(kTopic, closedMsg);
    }
    this.pushAggregated(f, i);
    const open = this.market.openIndex(f);
    if (open >= 0) this.broadcast(kTopic, JSON.stringify({ topic: kTopic, type: 'snapshot', ts: now, data: [this.klineData(f, open, false)] }));
    // orderbook deltas, one per subscribed depth.
    for (const [key, b] of this.books) {
      if (!key.endsWith(`.${f.symbol}`)) continue;
      const depth = Number(key.split('.')[0]);
      const next = syntheticBook(this.market, f, depth, this.market.closedCount(f));
      const db = diffSide(b.bids, next.bids);
      const da = diffSide(b.asks, next.asks);
      b.bids = next.bids;
      b.asks = next.asks;
      b.u += this.faults.takeWs('skipOrderbookUpdate') ? 2 : 1;
      b.seq++;
      const topic = `orderbook.${key}`;
      this.broadcast(topic, JSON.stringify({ topic, type: 'delta', ts: now, data: { s: f.symbol, b: db, a: da, u: b.u, seq: b.seq }, cts: now }));
    }
    // tickers: a delta of the fields that changed.
    const tTopic = `tickers.${f.symbol}`;
    const prev = this.lastTicker.get(f.symbol);
    const t = tickerOf(this.market, f);
    this.lastTicker.set(f.symbol, t);
    const delta: Record<string, unknown> = { symbol: f.symbol };
    for (const [k, v] of Object.entries(t)) if (!prev || prev[k] !== v) delta[k] = v;
    this.broadcast(tTopic, JSON.stringify({ topic: tTopic, type: 'delta', data: delta, cs: i, ts: now }));
  }
}

/** Terminates every connection at once (no close frame), as a network drop would; returns how many. */
export function terminateAll(conns: Set<{ readonly socket: WebSocket }>): number {
  const n = conns.size;
  for (const c of conns) c.socket.terminate();
  conns.clear();
  return n;
}
