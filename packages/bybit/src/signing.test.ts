import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { restSignPayload, signedHeaders, signRest, signWsAuth, signaturesEqual } from './signing.js';

// Bybit's documented example layout (docs/v5/guide "Create a request"): timestamp + apiKey +
// recvWindow + payload. Keys here are the doc's placeholders, not real keys.
const KEY = 'XXXXXXXXXX';
const SECRET = 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';

describe('request signing (HMAC-SHA256, hex)', () => {
  it('GET: the payload is the raw query string', () => {
    const query = 'category=option&symbol=BTC-29JUL22-25000-C';
    const expected = createHmac('sha256', SECRET).update('1658384314791' + KEY + '5000' + query).digest('hex');
    expect(signRest(SECRET, 1658384314791, KEY, 5000, query)).toBe(expected);
    // Computed independently with `openssl dgst -sha256 -hmac` over the same string.
    expect(signRest(SECRET, 1658384314791, KEY, 5000, query)).toBe('49c26b0f76e0bec6b926f119814d66c4bdf59de44adf2a1864b1ea0bfd9c710c');
    expect(restSignPayload(1658384314791, KEY, 5000, query)).toBe('1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C');
  });

  it('POST: the payload is the raw JSON body', () => {
    const body = '{"category":"option","symbol":"BTC-29JUL22-25000-C","orderType":"Limit","side":"Sell","qty":"1","price":"100","orderLinkId":"test-0001"}';
    expect(signRest(SECRET, '1658385579135', KEY, '5000', body)).toBe('6b5875cbe99c71ca9811c25d549c348f22f0e6f7ade1ede028e1cdd49c022c97');
    const h = signedHeaders(KEY, SECRET, 1658385579135, 5000, body);
    expect(h).toEqual({ 'X-BAPI-API-KEY': KEY, 'X-BAPI-TIMESTAMP': '1658385579135', 'X-BAPI-RECV-WINDOW': '5000', 'X-BAPI-SIGN': '6b5875cbe99c71ca9811c25d549c348f22f0e6f7ade1ede028e1cdd49c022c97' });
  });

  it('a different byte anywhere changes the signature', () => {
    const a = signRest(SECRET, 1, KEY, 5000, 'a=1');
    expect(signRest(SECRET, 1, KEY, 5000, 'a=2')).not.toBe(a);
    expect(signRest(SECRET, 2, KEY, 5000, 'a=1')).not.toBe(a);
    expect(signRest(SECRET + 'Z', 1, KEY, 5000, 'a=1')).not.toBe(a);
    expect(signaturesEqual(a, a)).toBe(true);
    expect(signaturesEqual(a, a.slice(0, -1) + (a.endsWith('0') ? '1' : '0'))).toBe(false);
  });

  it('WebSocket auth signs "GET/realtime" + expires', () => {
    expect(signWsAuth(SECRET, 1662350400000)).toBe('9f96338b434359fa6300c2d0040ffe25962cbc700dac649bfc7c59ef64431f89');
  });
});
