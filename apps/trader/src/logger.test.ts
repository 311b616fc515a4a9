import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from './logger.js';
import { loadCredentials } from './credentials.js';

describe('createLogger', () => {
  it('writes JSON lines and never a secret: redacted by key, scrubbed from messages, Credentials masked', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tat-log-')), 'log.jsonl');
    const creds = loadCredentials({ env: { BYBIT_API_KEY: 'KEYABCDEFGH123', BYBIT_API_SECRET: 'SECRETxyz987654321' } });
    const log = createLogger({ file, secrets: [creds.apiSecret, creds.apiKey] });
    log.info({ apiSecret: creds.apiSecret, nested: { apiKey: creds.apiKey }, creds }, `request signed with ${creds.apiSecret}`);
    log.warn({ err: `bad key ${creds.apiKey}` }, 'plain message');
    log.flush();
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.msg).toBe('request signed with [REDACTED]');
    expect(text).not.toContain('SECRETxyz987654321');
    expect(text).not.toContain('KEYABCDEFGH123');
    expect(lines[1]!.err).toBe('bad key [REDACTED]');
    expect((lines[0]!.nested as Record<string, unknown>).apiKey).toBe('[REDACTED]');
  });
});
