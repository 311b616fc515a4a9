import type { Balance, Fill, Order, Position } from '@task-agnostic/core';
import { signWsAuth } from './signing.js';
import { BybitSocket, type SocketOptions, type WsPush } from './ws-socket.js';
import { parseExecution, parseOrder, parsePosition, parseWallet } from './wire.js';

export interface PrivateHandlers {
  readonly onOrder?: (o: Order) => void;
  readonly onExecution?: (f: Fill) => void;
  /** Position updates; `undefined` position = flat for that symbol. */
  readonly onPosition?: (symbol: string, p: Position | undefined) => void;
  readonly onWallet?: (b: Balance) => void;
  readonly onError?: (e: Error) => void;
}

/**
 * The private WebSocket (order, execution, position, wallet). Authenticates on every connection
 * with `['auth', apiKey, expires, HMAC-SHA256(secret, 'GET/realtime' + expires)]`, then
 * (re)subscribes. Pushes are hints for a live loop; REST stays the source of truth after a drop.
 */
export class BybitPrivateStream {
  readonly socket: BybitSocket;

  /** `sign` returns the auth args for an expiry; the secret stays with the caller. */
  constructor(url: string, options: SocketOptions, apiKey: string, sign: (expiresMs: number) => string, private readonly h: PrivateHandlers) {
    const auth = (): Record<string, unknown> => {
      const expires = Date.now() + 10_000;
      return { op: 'auth', args: [apiKey, expires, sign(expires)] };
    };
    this.socket = new BybitSocket(url, { ...options, auth }, { onPush: (m) => this.onPush(m), onError: (e) => h.onError?.(e) });
    const topics = [h.onOrder && 'order', h.onExecution && 'execution', h.onPosition && 'position', h.onWallet && 'wallet'].filter((t): t is string => Boolean(t));
    this.socket.subscribe(topics);
    this.socket.start();
  }

  static signer(secret: string): (expiresMs: number) => string {
    return (expiresMs) => signWsAuth(secret, expiresMs);
  }

  private onPush(m: WsPush): void {
    const rows = Array.isArray(m.data) ? (m.data as Record<string, unknown>[]) : [];
    for (const r of rows) {
      if (m.topic === 'order') this.h.onOrder?.(parseOrder(r));
      else if (m.topic === 'execution') this.h.onExecution?.(parseExecution(r));
      else if (m.topic === 'position') this.h.onPosition?.(String(r.symbol), parsePosition(r));
      else if (m.topic === 'wallet') this.h.onWallet?.(parseWallet(r));
    }
  }

  close(): void {
    this.socket.close();
  }
}
