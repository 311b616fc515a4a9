/**
 * The dashboard's HTTP server (node:http, no framework): the page and its assets (uPlot served from
 * the installed package: no CDN, works offline), a JSON API over the journal (bounded: see
 * queries.ts), live updates as Server-Sent Events, Prometheus metrics at /metrics, and the kill
 * switch (POST, the token in the Authorization header, and {"confirm":"KILL"}).
 * listen() runs first, before the trader opens anything, so a port in use stops the start cleanly;
 * attach() then gives it the journal and the engines. Bad requests get a 4xx and a log line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '@task-agnostic/core';
import type { Journal } from '../journal.js';
import { TOKEN_COOKIE, bearerOf, cookieOf, isLoopback, newToken, tokenMatches } from './auth.js';
import type { TraderMetrics } from './metrics.js';
import type { EventSink } from './monitor.js';
import { MAX_PAGE, MAX_POINTS, decisionsPage, equitySeries, headsSeries, latencyHistograms, openPositions, summary, symbolsOf } from './queries.js';

export interface DashboardOptions {
  readonly host: string;
  readonly port: number;
  /** Required beyond loopback; on loopback a random one is made (it guards the kill switch). */
  readonly token?: string;
  readonly logger: Logger;
  /** 'viewer': a past run, read-only (no kill switch, no live stream). */
  readonly mode: 'paper' | 'live' | 'viewer';
}

export interface DashboardContext {
  readonly journal: Journal;
  readonly metrics?: TraderMetrics;
  /** Engages the kill switch on every engine (absent in the viewer). */
  readonly kill?: (reason: string) => void;
  /** Live status (one line per symbol). */
  readonly status?: () => string[];
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** The page's files: next to this module in src (static/) or copied beside the bundle in dist. */
function staticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const d of [path.join(here, 'static'), path.join(here, 'dashboard-static'), path.join(here, 'dashboard', 'static')]) {
    if (existsSync(path.join(d, 'dashboard.html'))) return d;
  }
  throw new ConfigError(`the dashboard's page files are missing (looked beside ${here}): rebuild the trader`, 'dashboard');
}

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const dir = staticDir();
  const req = createRequire(import.meta.url);
  const uplotDir = path.dirname(req.resolve('uplot/dist/uPlot.iife.min.js'));
  const m = new Map<string, { body: Buffer; type: string }>();
  m.set('/', { body: readFileSync(path.join(dir, 'dashboard.html')), type: 'text/html; charset=utf-8' });
  for (const [url, a] of Object.entries(ASSETS)) m.set(url, { body: readFileSync(path.join(dir, a.file)), type: a.type });
  m.set('/assets/uplot.js', { body: readFileSync(path.join(uplotDir, 'uPlot.iife.min.js')), type: 'text/javascript; charset=utf-8' });
  m.set('/assets/uplot.css', { body: readFileSync(path.join(uplotDir, 'uPlot.min.css')), type: 'text/css; charset=utf-8' });
  return m;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

/** Parses "host:port", ":port", "port" or "host" (port 8080). */
export function parseListen(text: string): { host: string; port: number } {
  const t = text.trim();
  const m = /^(?:\[([^\]]+)\]|([^:]*))?(?::(\d+))?$/.exec(t);
  const bare = /^\d+$/.test(t);
  const host = bare ? '127.0.0.1' : (m?.[1] ?? m?.[2] ?? '') || '127.0.0.1';
  const port = bare ? Number(t) : m?.[3] !== undefined ? Number(m[3]) : 8080;
  if (!m && !bare) throw new ConfigError(`--dashboard must be host:port (e.g. 127.0.0.1:8080), got '${text}'`, 'dashboard');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--dashboard port must be 0-65535, got '${text}'`, 'dashboard');
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new ConfigError(`--dashboard host is not valid: '${host}'`, 'dashboard');
  return { host, port };
}

export class DashboardServer implements EventSink {
  readonly token: string;
  /** Every request needs the token (bound beyond loopback). */
  readonly guarded: boolean;
  private server: Server | null = null;
  private ctx: DashboardContext | null = null;
  private readonly streams = new Set<ServerResponse>();
  private assets: Map<string, { body: Buffer; type: string }> | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  readonly stats = { requests: 0, refused: 0, errors: 0 };

  constructor(readonly o: DashboardOptions) {
    this.guarded = !isLoopback(o.host);
    if (this.guarded && !o.token) throw new ConfigError(`the dashboard on ${o.host} (beyond loopback) needs an access token: --dashboard-token <16+ chars> or TRADER_DASHBOARD_TOKEN`, 'dashboard-token');
    this.token = o.token ?? newToken();
  }

  get clients(): number {
    return this.streams.size;
  }

  /** The address it listens on (after listen()). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.o.port;
  }

  /** The URL to open (it carries the token: treat it as a secret). */
  get url(): string {
    const h = this.o.host.includes(':') && !this.o.host.startsWith('[') ? `[${this.o.host}]` : this.o.host;
    return `http://${h === '0.0.0.0' ? '127.0.0.1' : h}:${this.port}/?token=${encodeURIComponent(this.token)}`;
  }

  /** Binds the port; a port in use (or an address this machine lacks) is a ConfigError. */
  async listen(): Promise<void> {
    this.assets = loadAssets();
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('clientError', (err, socket) => {
      this.stats.refused++;
      this.o.logger.warn({ err: (err as Error).message }, 'dashboard: malformed HTTP request refused');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EACCES' ? 'needs privileges' : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : `failed (${err.code ?? err.message})`;
        reject(new ConfigError(`dashboard: ${this.o.host}:${this.o.port} ${why}: choose another --dashboard host:port`, 'dashboard'));
      });
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    server.on('error', (err) => this.o.logger.error({ err: err.message }, 'dashboard server error'));
    this.server = server;
    this.keepAlive = setInterval(() => this.broadcast(': keep-alive\n\n'), 15_000);
    this.keepAlive.unref();
  }

  /** Hands the server the journal and the engines' controls; until then the API answers 503. */
  attach(ctx: DashboardContext): void {
    this.ctx = ctx;
  }

  broadcast(frame: string): void {
    for (const res of this.streams) {
      // A browser that stops reading is dropped rather than buffered without bound.
      if (res.writableLength > 1 << 20) {
        res.destroy();
        this.streams.delete(res);
        continue;
      }
      res.write(frame);
    }
  }

  async close(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const s of this.streams) s.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    this.stats.refused++;
    this.o.logger.warn({ status, method: req.method, path: (req.url ?? '').split('?')[0]!.slice(0, 200), remote: req.socket.remoteAddress, reason: message }, 'dashboard: request refused');
    this.send(res, status, { error: message });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) return void res.end();
    const text = typeof body === 'string' ? body : JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://dashboard.invalid');
      } catch {
        throw new HttpError(400, 'malformed URL');
      }
      const queryToken = url.searchParams.get('token') ?? undefined;
      const given = bearerOf(req) ?? queryToken ?? cookieOf(req);
      if (given !== undefined && !tokenMatches(given, this.token)) throw new HttpError(401, 'bad token');
      if (this.guarded && given === undefined) throw new HttpError(401, 'this dashboard needs its access token (Authorization: Bearer <token> or ?token=)');
      await this.route(req, res, url, queryToken !== undefined);
    } catch (err) {
      if (err instanceof HttpError) return this.refuse(req, res, err.status, err.message);
      this.stats.errors++;
      this.o.logger.error({ err: (err as Error).message, path: (req.url ?? '').split('?')[0] }, 'dashboard: request failed');
      this.send(res, 500, { error: 'internal error (see the trader log)' });
    }
  }

  private journal(): Journal {
    if (!this.ctx) throw new HttpError(503, 'the trader is still starting');
    return this.ctx.journal;
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, tokenInQuery: boolean): Promise<void> {
    const p = url.pathname;
    const method = req.method ?? 'GET';
    if (p === '/api/kill') {
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      return this.kill(req, res);
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'read-only endpoint: use GET');
    const asset = this.assets!.get(p);
    if (asset) {
      const cookie = tokenInQuery && p === '/' ? { 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(this.token)}; HttpOnly; SameSite=Strict; Path=/` } : {};
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache', ...cookie });
      return void res.end(method === 'HEAD' ? undefined : asset.body);
    }
    const q = url.searchParams;
    const symbol = (): string => {
      const s = q.get('symbol') ?? symbolsOf(this.journal())[0] ?? 'BTCUSDT';
      if (!/^[A-Z0-9]{2,20}$/.test(s)) throw new HttpError(400, `symbol must look like BTCUSDT, got '${s.slice(0, 30)}'`);
      return s;
    };
    const int = (name: string, dflt: number, lo: number, hi: number): number => {
      const v = q.get(name);
      if (v === null) return dflt;
      const x = Number(v);
      if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(x) || x < lo || x > hi) throw new HttpError(400, `${name} must be an integer in [${lo}, ${hi}], got '${v.slice(0, 30)}'`);
      return x;
    };
    switch (p) {
      case '/api/summary': {
        const j = this.journal();
        return this.send(res, 200, { mode: this.o.mode, guarded: this.guarded, canKill: !!this.ctx?.kill, ...summary(j), positions: openPositions(j), status: this.ctx?.status?.() ?? [] });
      }
      case '/api/equity':
        return this.send(res, 200, equitySeries(this.journal(), symbol(), int('points', 1500, 2, MAX_POINTS)));
      case '/api/heads':
        return this.send(res, 200, headsSeries(this.journal(), symbol(), int('points', 1500, 2, MAX_POINTS)));
      case '/api/decisions': {
        const s = q.get('symbol') === null ? undefined : symbol();
        const before = q.get('before') === null ? undefined : int('before', 0, 1, Number.MAX_SAFE_INTEGER);
        return this.send(res, 200, { rows: decisionsPage(this.journal(), { ...(s ? { symbol: s } : {}), ...(before !== undefined ? { beforeId: before } : {}), limit: int('limit', 50, 1, MAX_PAGE) }) });
      }
      case '/api/latency':
        return this.send(res, 200, { stages: latencyHistograms(this.journal()) });
      case '/api/stream':
        return this.stream(req, res);
      case '/metrics': {
        const m = this.ctx?.metrics;
        if (!m) throw new HttpError(404, 'no metrics in the read-only viewer');
        const text = await m.text();
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': m.contentType, 'cache-control': 'no-store' });
        return void res.end(text);
      }
      default:
        throw new HttpError(404, 'not found');
    }
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.o.mode === 'viewer') throw new HttpError(404, 'no live stream in the read-only viewer');
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
  }

  private async kill(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.ctx?.kill) throw new HttpError(403, this.o.mode === 'viewer' ? 'read-only viewer: no kill switch' : 'the trader is still starting');
    // The header only: a cookie would let another page in the same browser engage it.
    if (!tokenMatches(bearerOf(req), this.token)) throw new HttpError(401, 'the kill switch needs the token in the Authorization header');
    const raw = await readBody(req, 4096);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'the body must be JSON: {"confirm":"KILL","reason":"..."}');
    }
    const b = body as { confirm?: unknown; reason?: unknown } | null;
    if (!b || typeof b !== 'object' || b.confirm !== 'KILL') throw new HttpError(400, 'confirm the kill switch with {"confirm":"KILL"}');
    const reason = typeof b.reason === 'string' && b.reason.trim() ? b.reason.trim().slice(0, 200) : 'dashboard kill button';
    this.o.logger.warn({ reason, remote: req.socket.remoteAddress }, 'dashboard: kill switch requested');
    this.ctx.kill(`dashboard: ${reason}`);
    this.send(res, 202, { ok: true, message: 'kill switch requested: it engages at the next candle (flatten, no new trades)' });
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new HttpError(413, `body larger than ${max} bytes`));
        req.resume();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
