import { createHmac } from 'node:crypto';

/**
 * Bybit v5 REST signing (https://bybit-exchange.github.io/docs/v5/guide#create-a-request):
 * hex(HMAC-SHA256(secret, timestamp + apiKey + recvWindow + payload)), where payload is the raw
 * query string for GET and the raw JSON body for POST. Sent as X-BAPI-SIGN beside
 * X-BAPI-API-KEY, X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW.
 */
export function restSignPayload(timestampMs: number | string, apiKey: string, recvWindowMs: number | string, payload: string): string {
  return `${timestampMs}${apiKey}${recvWindowMs}${payload}`;
}

export function signRest(secret: string, timestampMs: number | string, apiKey: string, recvWindowMs: number | string, payload: string): string {
  return createHmac('sha256', secret).update(restSignPayload(timestampMs, apiKey, recvWindowMs, payload)).digest('hex');
}

/** WebSocket auth: hex(HMAC-SHA256(secret, 'GET/realtime' + expiresMs)). */
export function signWsAuth(secret: string, expiresMs: number): string {
  return createHmac('sha256', secret).update(`GET/realtime${expiresMs}`).digest('hex');
}

/** The headers of a signed v5 request. */
export function signedHeaders(apiKey: string, secret: string, timestampMs: number, recvWindowMs: number, payload: string): Record<string, string> {
  return {
    'X-BAPI-API-KEY': apiKey,
    'X-BAPI-TIMESTAMP': String(timestampMs),
    'X-BAPI-RECV-WINDOW': String(recvWindowMs),
    'X-BAPI-SIGN': signRest(secret, timestampMs, apiKey, recvWindowMs, payload),
  };
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
