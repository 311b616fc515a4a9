import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { signWsAuth, signaturesEqual } from '../signing.js';
import type { AccountEvent, SimAccount } from './accounts.js';
import type { SimMarket } from './market.js';
import { walletEntry, wireOrder, wirePosition } from './rest-private.js';
import { terminateAll } from './ws-hub.js';

const TOPICS = new Set(['order', 'execution', 'position', 'wallet']);

interface PrivConn {
  readonly id: string;
  readonly socket: WebSocket;
  authed: boolean;
  readonly topics: Set<string>;
}

/**
 * The private WebSocket (/v5/private): `auth` with [apiKey, expires, hex HMAC-SHA256(secret,
 * 'GET/realtime' + expires)], then topics order, execution, position and wallet, pushed as the
 * simulated account changes.
 */
export class PrivateWsHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<PrivConn>();
  private next = 1;
  private seq = 1;
  readonly stats = { connections: 0, authOk: 0, authFailed: 0, pushes: 0 };

  constructor(private readonly market: SimMarket, private readonly account: SimAccount, private readonly keys: { apiKey: string; apiSecret: string }) {
    account.listeners.push((e) => this.onAccountEvent(e));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c: PrivConn = { id: `priv-${this.next++}`, socket: ws, authed: false, topics: new Set() };
      this.conns.add(c);
      this.stats.connections++;
      ws.on('close', () => this.conns.delete(c));
      ws.on('error', () => this.conns.delete(c));
      ws.on('message', (raw) => this.onMessage(c, raw.toString()));
    });
  }

  dropAll(): number {
    return terminateAll(this.conns);
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }

  private send(c: PrivConn, msg: Record<string, unknown>): void {
    if (c.socket.readyState === WebSocket.OPEN) c.socket.send(JSON.stringify(msg));
  }

  private onMessage(c: PrivConn, text: string): void {
    let msg: { op?: string; args?: unknown[]; req_id?: string };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.send(c, { success: false, ret_msg: 'error:request not json', conn_id: c.id, op: '' });
      return;
    }
    const base = { conn_id: c.id, req_id: msg.req_id, op: msg.op };
    if (msg.op === 'ping') {
      this.send(c, { ...base, success: true, ret_msg: 'pong', op: 'pong', args: [String(Date.now())] });
      return;
    }
    if (msg.op === 'auth') {
      const [key, expires, sig] = (msg.args ?? []).map(String) as [string, string, string];
      const exp = Number(expires);
      const ok = key === this.keys.apiKey && Number.isFinite(exp) && exp > Date.now() && signaturesEqual(signWsAuth(this.keys.apiSecret, exp), String(sig));
      c.authed = ok;
      if (ok) this.stats.authOk++;
      else this.stats.authFailed++;
      this.send(c, { ...base, success: ok, ret_msg: ok ? '' : 'Request not authorized' });
      return;
    }
    if (msg.op === 'subscribe' || msg.op === 'unsubscribe') {
      if (!c.authed) {
        this.send(c, { ...base, success: false, ret_msg: 'Request not authorized' });
        return;
      }
      const args = (msg.args ?? []).map(String);
      const bad = args.find((t) => !TOPICS.has(t));
      if (bad !== undefined) {
        this.send(c, { ...base, success: false, ret_msg: `Invalid topic: ${bad}` });
        return;
      }
      for (const t of args) if (msg.op === 'subscribe') c.topics.add(t); else c.topics.delete(t);
      this.send(c, { ...base, success: true, ret_msg: '' });
      return;
    }
    this.send(c, { ...base, success: false, ret_msg: `error:unknown op ${String(msg.op)}` });
  }

  private push(topic: string, data: unknown[]): void {
    const text = JSON.stringify({ id: `${topic}-${this.seq}`, topic, creationTime: this.market.nowMs, data });
    this.seq++;
    for (const c of this.conns) {
      if (c.authed && c.topics.has(topic) && c.socket.readyState === WebSocket.OPEN) {
        c.socket.send(text);
        this.stats.pushes++;
      }
    }
  }

  private onAccountEvent(e: AccountEvent): void {
    if (e.kind === 'order') {
      this.push('order', [{ category: 'linear', ...wireOrder(this.market, e.order) }]);
      return;
    }
    const f = e.fill;
    const feed = this.market.feed(f.symbol)!;
    this.push('execution', [{
      category: 'linear', symbol: f.symbol, execFee: String(f.fee), execId: `exec-${this.seq}`, execPrice: String(f.price), execQty: String(f.qty),
      execType: 'Trade', execValue: String(f.qty * f.price), feeRate: '', orderId: f.orderId, orderLinkId: f.orderLinkId,
      orderPrice: String(e.order.price), orderQty: String(e.order.qty), orderType: e.order.orderType, stopOrderType: 'UNKNOWN', side: f.side,
      execTime: String(f.tsMs), isLeverage: '0', isMaker: f.isMaker, leavesQty: String(e.order.qty - e.order.cumExecQty), seq: this.seq,
    }]);
    this.push('position', [{ category: 'linear', ...wirePosition(this.market, this.account, feed) }]);
    this.push('wallet', [walletEntry(this.account)]);
  }
}
