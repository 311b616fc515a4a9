import WebSocket from 'ws';
import { backoffMs } from './rate-limit.js';

export interface SocketOptions {
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly random?: () => number;
  /** Private streams: the auth request sent first on every connection; topics wait for its success. */
  readonly auth?: () => Record<string, unknown>;
}

/** A push on a topic, e.g. { topic: 'kline.60.BTCUSDT', type: 'snapshot', data: [...] }. */
export interface WsPush {
  readonly topic: string;
  readonly type?: string;
  readonly ts?: number;
  readonly data: unknown;
}

export interface SocketHandlers {
  onPush(msg: WsPush): void;
  /** Called on every (re)connect, after the subscriptions were sent. */
  onOpen?(reconnect: boolean): void;
  onError?(err: Error): void;
}

export interface SocketStats {
  connects: number;
  reconnects: number;
  drops: number;
  malformed: number;
  pingsSent: number;
  pongs: number;
  subscribeFailures: number;
  authFailures: number;
}

/**
 * One Bybit public WebSocket with the connection discipline Bybit asks for: a ping every 20 s
 * ({op:'ping'} -> {op:'ping', ret_msg:'pong'}), reconnect with exponential backoff and jitter,
 * and resubscription of every topic after a reconnect. Malformed frames are counted and skipped.
 */
export class BybitSocket {
  private ws: WebSocket | undefined;
  private readonly topics = new Set<string>();
  private attempt = 0;
  private closed = false;
  private everOpen = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private lastMessageMs = 0;
  private reqId = 1;
  readonly stats: SocketStats = { connects: 0, reconnects: 0, drops: 0, malformed: 0, pingsSent: 0, pongs: 0, subscribeFailures: 0, authFailures: 0 };

  constructor(private readonly url: string, private readonly o: SocketOptions, private readonly h: SocketHandlers) {}

  /** Wall time (Date.now()) of the last frame received, 0 before any. */
  get lastMessageAtMs(): number {
    return this.lastMessageMs;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && (this.authed || !this.o.auth);
  }

  start(): void {
    this.closed = false;
    this.connect();
  }

  subscribe(topics: readonly string[]): void {
    const fresh = topics.filter((t) => !this.topics.has(t));
    for (const t of fresh) this.topics.add(t);
    if (fresh.length && this.isOpen) this.sendOp('subscribe', fresh);
  }

  unsubscribe(topics: readonly string[]): void {
    const had = topics.filter((t) => this.topics.delete(t));
    if (had.length && this.isOpen) this.sendOp('unsubscribe', had);
  }

  /** Unsubscribe then subscribe again: Bybit answers with a fresh snapshot (orderbook resync). */
  resubscribe(topic: string): void {
    if (!this.isOpen) return; // the reconnect resubscribes anyway
    this.sendOp('unsubscribe', [topic]);
    this.sendOp('subscribe', [topic]);
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => undefined);
    this.ws?.terminate();
    this.ws = undefined;
  }

  private sendOp(op: string, args: readonly string[]): void {
    // Bybit accepts at most 10 args per request.
    for (let i = 0; i < args.length; i += 10) this.ws?.send(JSON.stringify({ op, args: args.slice(i, i + 10), req_id: `${op}-${this.reqId++}` }));
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    this.pingTimer = undefined;
    this.reconnectTimer = undefined;
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: Math.max(this.o.pingIntervalMs, 10_000) });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      this.stats.connects++;
      const reconnect = this.everOpen;
      if (reconnect) this.stats.reconnects++;
      this.everOpen = true;
      this.lastMessageMs = Date.now();
      this.pingTimer = setInterval(() => this.ping(), this.o.pingIntervalMs);
      this.reconnecting = reconnect;
      if (this.o.auth) {
        this.authed = false;
        ws.send(JSON.stringify({ ...this.o.auth(), req_id: `auth-${this.reqId++}` }));
      } else this.ready();
    });
    ws.on('message', (raw) => this.onMessage(raw.toString()));
    ws.on('close', () => this.onDown(ws));
    ws.on('error', () => this.onDown(ws));
  }

  private authed = false;
  private reconnecting = false;

  /** Connected (and authenticated where needed): subscribe everything, tell the owner. */
  private ready(): void {
    this.authed = true;
    if (this.topics.size) this.sendOp('subscribe', [...this.topics]);
    this.h.onOpen?.(this.reconnecting);
  }

  private ping(): void {
    if (!this.isOpen) return;
    const sentAt = Date.now();
    this.stats.pingsSent++;
    this.ws?.send(JSON.stringify({ op: 'ping', req_id: `ping-${this.reqId++}` }));
    // No message at all (not even the pong) within pongTimeoutMs of the ping: the link is dead.
    if (this.pongTimer) clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.pongTimer = setTimeout(() => {
      if (ws === this.ws && this.lastMessageMs < sentAt) ws?.terminate();
    }, this.o.pongTimeoutMs);
  }

  private onDown(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    this.clearTimers();
    if (this.closed) return;
    this.stats.drops++;
    const delay = backoffMs(this.attempt++, this.o.reconnectBaseMs, this.o.reconnectMaxMs, this.o.random);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(text: string): void {
    this.lastMessageMs = Date.now();
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object');
    } catch {
      this.stats.malformed++;
      return;
    }
    if (msg.op === 'ping' || msg.op === 'pong' || msg.ret_msg === 'pong') {
      this.stats.pongs++;
      return;
    }
    if (msg.op === 'auth') {
      if (msg.success === true) this.ready();
      else {
        // Wrong keys do not get better by retrying: stop and report.
        this.stats.authFailures++;
        this.h.onError?.(new Error(`Bybit WS auth failed: ${String(msg.ret_msg)}`));
        this.close();
      }
      return;
    }
    if (msg.op === 'subscribe' || msg.op === 'unsubscribe') {
      if (msg.success === false) {
        this.stats.subscribeFailures++;
        this.h.onError?.(new Error(`Bybit WS ${String(msg.op)} failed: ${String(msg.ret_msg)}`));
      }
      return;
    }
    if (typeof msg.topic === 'string' && msg.data !== undefined) {
      try {
        this.h.onPush(msg as unknown as WsPush);
      } catch (err) {
        this.stats.malformed++;
        this.h.onError?.(err as Error);
      }
      return;
    }
    this.stats.malformed++;
  }
}
