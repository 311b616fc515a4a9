import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { loadCredentials, redactCredentials } from './credentials.js';

const SECRET = 'S3cr3tValue-abcdef123456';
const KEY = 'KEYabcdef123';

describe('credentials', () => {
  it('reads keys from the environment and never shows the secret', () => {
    const c = loadCredentials({ env: { BYBIT_API_KEY: KEY, BYBIT_API_SECRET: SECRET } });
    expect(c.apiSecret).toBe(SECRET);
    for (const shown of [JSON.stringify(c), inspect(c), String(c), `${c}`, JSON.stringify({ nested: c })]) {
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain(KEY);
    }
    expect(redactCredentials(`sign failed for ${KEY} with ${SECRET}`, c)).toBe('sign failed for [REDACTED] with [REDACTED]');
  });

  it('says what is missing without keys', () => {
    expect(() => loadCredentials({ env: {} })).toThrow(/set BYBIT_API_KEY and BYBIT_API_SECRET/);
  });

  it('reads a 0600 key file and refuses a group- or world-readable one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-keys-'));
    const f = path.join(dir, 'keys.json');
    writeFileSync(f, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }));
    chmodSync(f, 0o644);
    expect(() => loadCredentials({ file: f })).toThrow(/mode 644.*chmod 600/);
    chmodSync(f, 0o600);
    expect(loadCredentials({ file: f }).apiKey).toBe(KEY);
    writeFileSync(f, `{"apiKey": "${KEY}", "apiSecret": "${SECRET}"`); // malformed
    chmodSync(f, 0o600);
    let msg = '';
    try {
      loadCredentials({ file: f });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/not valid JSON/);
    expect(msg).not.toContain(SECRET);
  });
});
