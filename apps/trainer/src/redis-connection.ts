/**
 * Redis for the BullMQ executor: the URL with its password masked (for every message), and a
 * reachability check that fails within `timeoutMs` (default 4 s) with a clear error naming the
 * URL, instead of ioredis's endless reconnect loop.
 */
import { Redis } from 'ioredis';
import { ConfigError, TaError } from '@task-agnostic/core';

/** Redis is unreachable or refused us. */
export class QueueUnavailableError extends TaError {
  static override readonly errorCode = 'QUEUE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE', message, options);
  }
}

/** The URL with any password replaced by ***. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

/** Checks a --queue URL's form (redis:// or rediss://, a host). */
export function parseRedisUrl(url: string, flag = 'queue'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`--${flag} '${maskUrl(url)}' is not a URL such as redis://127.0.0.1:6379`, flag);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`--${flag} '${maskUrl(url)}' must start with redis:// or rediss://`, flag);
  if (!u.hostname) throw new ConfigError(`--${flag} '${maskUrl(url)}' names no host`, flag);
  return url;
}

/** A connection for BullMQ (blocking commands need maxRetriesPerRequest null). */
export function redisConnection(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null });
  r.on('error', () => {
    /* BullMQ reports what matters; reconnects are ioredis's */
  });
  return r;
}

/** Connects and PINGs once; throws QueueUnavailableError naming the (masked) URL within timeoutMs. */
export async function probeRedis(url: string, timeoutMs = 4000): Promise<void> {
  parseRedisUrl(url);
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, enableReadyCheck: false, retryStrategy: () => null });
  let last: Error | null = null;
  r.on('error', (e: Error) => {
    last = e;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      r.connect().then(() => r.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${(timeoutMs / 1000).toFixed(0)} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    const why = (last as Error | null)?.message ?? (err as Error).message;
    throw new QueueUnavailableError(`cannot reach Redis at ${maskUrl(url)}: ${why.split('\n')[0]} (is redis-server running there? start one with: redis-server --port 6379)`);
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}
