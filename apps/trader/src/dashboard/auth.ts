/**
 * Dashboard access: bound to 127.0.0.1 (or localhost / ::1) the page is open to local users and only
 * the kill switch needs the token; bound anywhere else every request must carry it. The token comes
 * as `Authorization: Bearer <token>`, as `?token=` (the printed URL; the page then keeps it in an
 * HttpOnly cookie) or in that cookie. The kill switch takes it only from the header, so another site
 * cannot engage it with the browser's cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '@task-agnostic/core';

export const TOKEN_COOKIE = 'tat_dashboard';
export const TOKEN_ENV = 'TRADER_DASHBOARD_TOKEN';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Checks a user-given token: long enough to resist guessing, printable, no spaces. */
export function checkToken(token: string): string {
  if (!/^[\x21-\x7e]{16,256}$/.test(token)) throw new ConfigError('the dashboard token must be 16-256 printable characters without spaces', 'dashboard-token');
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

export function cookieOf(req: IncomingMessage): string | undefined {
  const c = req.headers.cookie;
  if (!c) return undefined;
  for (const part of c.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
