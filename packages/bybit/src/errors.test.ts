import { describe, expect, it } from 'vitest';
import { BybitApiError, BybitIpBanError, BybitNetworkError, BybitProtocolError, BybitRateLimitError, isTransientError } from './errors.js';
import { ConfigError } from '@task-agnostic/core';

describe('isTransientError', () => {
  it('network, 5xx, malformed, rate limits, an IP ban and server-side retCodes are transient', () => {
    expect(isTransientError(new BybitNetworkError('/v5/position/list', 'request timed out', true))).toBe(true);
    expect(isTransientError(new BybitNetworkError('/v5/position/list', 'HTTP 503: busy', false))).toBe(true);
    expect(isTransientError(new BybitProtocolError('/v5/position/list', 'response is not JSON'))).toBe(true);
    expect(isTransientError(new BybitRateLimitError('/v5/position/list', 10006, 'Too many visits!', 200))).toBe(true);
    expect(isTransientError(new BybitRateLimitError('/v5/position/list', 429, 'HTTP 429', 429))).toBe(true);
    expect(isTransientError(new BybitIpBanError('/v5/position/list', Date.now() + 600_000))).toBe(true);
    expect(isTransientError(new BybitApiError('/v5/position/list', 10016, 'server error'))).toBe(true);
    expect(isTransientError(new BybitApiError('/v5/position/list', -1, 'bad gateway', 502))).toBe(true);
  });

  it('bad keys, a bad signature, missing permissions, a params error and anything that is not a Bybit error are fatal', () => {
    for (const code of [10001, 10003, 10004, 10005, 110017]) expect(isTransientError(new BybitApiError('/v5/order/create', code, 'no'))).toBe(false);
    expect(isTransientError(new ConfigError('bad', 'x'))).toBe(false);
    expect(isTransientError(new TypeError('x is undefined'))).toBe(false);
  });
});
