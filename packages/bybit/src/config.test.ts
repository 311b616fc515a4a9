import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import { BybitClient } from './client.js';
import { BYBIT_HOSTS, parseClientOptions } from './config.js';

const KEY = 'kkkkSECRETKEY12345';
const SECRET = 'ssssTOPSECRET67890abcdef';

describe('client options', () => {
  it('has no default mode: a real host is never chosen implicitly', () => {
    expect(() => parseClientOptions({})).toThrow(ConfigError);
    expect(() => parseClientOptions({})).toThrow(/mode/);
  });

  it('refuses mainnet trading without allowMainnetTrading (no network is touched)', () => {
    expect(() => new BybitClient({ mode: 'mainnet', apiKey: KEY, apiSecret: SECRET })).toThrow(/allowMainnetTrading/);
    const c = new BybitClient({ mode: 'mainnet', apiKey: KEY, apiSecret: SECRET, allowMainnetTrading: true });
    expect(c.endpoints.restUrl).toBe(BYBIT_HOSTS.mainnet.rest);
    // Market data only (no keys) needs no flag.
    expect(new BybitClient({ mode: 'mainnet' }).hasKeys).toBe(false);
  });

  it('maps testnet and demo to their hosts; custom needs both URLs', () => {
    expect(new BybitClient({ mode: 'testnet' }).endpoints.restUrl).toBe('https://api-testnet.bybit.com');
    expect(new BybitClient({ mode: 'demo', apiKey: KEY, apiSecret: SECRET }).endpoints.restUrl).toBe('https://api-demo.bybit.com');
    expect(() => new BybitClient({ mode: 'custom', restUrl: 'http://127.0.0.1:1' })).toThrow(/wsPublicUrl/);
    expect(() => new BybitClient({ mode: 'testnet', restUrl: 'http://127.0.0.1:1' })).toThrow(/custom/);
    expect(() => new BybitClient({ mode: 'custom', restUrl: 'http://127.0.0.1:1', wsPublicUrl: 'ws://127.0.0.1:1', apiKey: KEY })).toThrow(/apiSecret/);
  });

  it('names the bad field and never echoes values', () => {
    try {
      parseClientOptions({ mode: 'testnet', apiKey: KEY, apiSecret: SECRET, timeoutMs: -1 });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).field).toBe('timeoutMs');
      expect(String((e as Error).message)).not.toContain(SECRET);
    }
    expect(() => parseClientOptions({ mode: 'testnet', bogus: 1 })).toThrow(ConfigError);
  });

  it('toJSON, util.inspect, String and JSON.stringify never reveal the keys', () => {
    const c = new BybitClient({ mode: 'testnet', apiKey: KEY, apiSecret: SECRET });
    const views = [JSON.stringify(c), inspect(c, { showHidden: true, depth: 10 }), String(c), JSON.stringify(c.toJSON()), Object.keys(c).join(',')];
    for (const v of views) {
      expect(v).not.toContain(KEY);
      expect(v).not.toContain(SECRET);
    }
    expect(c.toJSON()).toMatchObject({ mode: 'testnet', hasKeys: true, apiKey: '[REDACTED]' });
  });
});
