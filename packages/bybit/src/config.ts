import { ConfigError } from '@task-agnostic/core';
import { z } from 'zod/v3';

/** Official Bybit v5 hosts (https://bybit-exchange.github.io/docs/v5/guide). */
export const BYBIT_HOSTS = {
  mainnet: { rest: 'https://api.bybit.com', wsPublic: 'wss://stream.bybit.com/v5/public/linear', wsPrivate: 'wss://stream.bybit.com/v5/private' },
  testnet: { rest: 'https://api-testnet.bybit.com', wsPublic: 'wss://stream-testnet.bybit.com/v5/public/linear', wsPrivate: 'wss://stream-testnet.bybit.com/v5/private' },
  // Demo trading: private REST and WebSocket on the demo hosts; public market data is mainnet's.
  demo: { rest: 'https://api-demo.bybit.com', wsPublic: 'wss://stream.bybit.com/v5/public/linear', wsPrivate: 'wss://stream-demo.bybit.com/v5/private' },
} as const;

export const MODES = ['mainnet', 'testnet', 'demo', 'custom'] as const;
export type BybitMode = (typeof MODES)[number];

const wsSchema = z
  .object({
    /** Bybit asks for a ping every 20 s (TOOLCHAIN.md). */
    pingIntervalMs: z.number().int().positive().default(20_000),
    /** No message (not even a pong) for this long after a ping -> the connection is dead. */
    pongTimeoutMs: z.number().int().positive().default(10_000),
    reconnectBaseMs: z.number().int().positive().default(500),
    reconnectMaxMs: z.number().int().positive().default(30_000),
  })
  .strict();

/**
 * Client settings. `mode` has no default on purpose: nothing ever talks to a real host unless the
 * caller says so. 'custom' takes explicit URLs (the simulator). Trading on mainnet (keys + mainnet)
 * also needs `allowMainnetTrading: true`.
 */
export const clientOptionsSchema = z
  .object({
    mode: z.enum(MODES),
    restUrl: z.string().url().optional(),
    wsPublicUrl: z.string().url().optional(),
    /** Private WebSocket (custom mode; optional: only privateStream() needs it). */
    wsPrivateUrl: z.string().url().optional(),
    apiKey: z.string().min(1).optional(),
    apiSecret: z.string().min(1).optional(),
    allowMainnetTrading: z.boolean().default(false),
    /** Bybit's default recv window is 5000 ms. */
    recvWindowMs: z.number().int().positive().max(60_000).default(5_000),
    timeoutMs: z.number().int().positive().default(10_000),
    /** Retries of one request on 10006 / 429 / network errors (GETs) before giving up. */
    maxRetries: z.number().int().min(0).max(20).default(5),
    backoffBaseMs: z.number().int().positive().default(500),
    backoffMaxMs: z.number().int().positive().default(30_000),
    /** The longest wait for a rate-limit window to reset before failing instead. */
    maxRateLimitWaitMs: z.number().int().positive().default(60_000),
    /** After HTTP 403 every request is refused locally this long (Bybit: a ban lasts >= 10 min). */
    ipBanMs: z.number().int().positive().default(600_000),
    ws: wsSchema.default({}),
  })
  .strict();

export type BybitClientOptions = z.infer<typeof clientOptionsSchema>;
export type BybitClientOptionsInput = z.input<typeof clientOptionsSchema>;

export interface ResolvedEndpoints {
  readonly restUrl: string;
  readonly wsPublicUrl: string;
  readonly wsPrivateUrl: string | undefined;
}

/** Validates options (errors name the field) and resolves the endpoints of the mode. */
export function parseClientOptions(input: unknown): { options: BybitClientOptions; endpoints: ResolvedEndpoints } {
  const r = clientOptionsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || 'options';
    // Never echo received values: they may be secrets.
    throw new ConfigError(`invalid Bybit client option: ${issue.message}`, field);
  }
  const o = r.data;
  if ((o.apiKey === undefined) !== (o.apiSecret === undefined)) {
    throw new ConfigError('apiKey and apiSecret must be given together', o.apiKey === undefined ? 'apiKey' : 'apiSecret');
  }
  let endpoints: ResolvedEndpoints;
  if (o.mode === 'custom') {
    if (!o.restUrl || !o.wsPublicUrl) throw new ConfigError("mode 'custom' needs restUrl and wsPublicUrl (e.g. the simulator's)", o.restUrl ? 'wsPublicUrl' : 'restUrl');
    endpoints = { restUrl: o.restUrl.replace(/\/$/, ''), wsPublicUrl: o.wsPublicUrl, wsPrivateUrl: o.wsPrivateUrl };
  } else {
    if (o.restUrl || o.wsPublicUrl || o.wsPrivateUrl) throw new ConfigError(`restUrl/wsPublicUrl are only for mode 'custom' (mode is '${o.mode}')`, 'mode');
    const h = BYBIT_HOSTS[o.mode];
    endpoints = { restUrl: h.rest, wsPublicUrl: h.wsPublic, wsPrivateUrl: h.wsPrivate };
  }
  if (o.mode === 'mainnet' && o.apiKey && !o.allowMainnetTrading) {
    throw new ConfigError('keys on mainnet mean real money: pass allowMainnetTrading: true to trade on mainnet (or use testnet/demo)', 'allowMainnetTrading');
  }
  return { options: o, endpoints };
}
