import { readFileSync, statSync } from 'node:fs';
import { ConfigError, redactSecrets } from '@task-agnostic/core';

/** API credentials. `toJSON` and `inspect` never reveal the secret. */
export interface Credentials {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Where they came from, for logs: 'env' or the file path. */
  readonly source: string;
}

export const KEY_ENV = 'BYBIT_API_KEY';
export const SECRET_ENV = 'BYBIT_API_SECRET';

function wrap(apiKey: string, apiSecret: string, source: string): Credentials {
  const masked = { apiKey: maskKey(apiKey), apiSecret: '[REDACTED]', source };
  const c = { apiKey, apiSecret, source };
  Object.defineProperty(c, 'toJSON', { value: () => masked, enumerable: false });
  Object.defineProperty(c, Symbol.for('nodejs.util.inspect.custom'), { value: () => masked, enumerable: false });
  Object.defineProperty(c, 'toString', { value: () => `Credentials(${masked.apiKey} from ${source})`, enumerable: false });
  return Object.freeze(c);
}

/** Shows only the first 4 characters of a key, e.g. for "trading as ABCD****". */
export function maskKey(key: string): string {
  return key.length <= 4 ? '****' : `${key.slice(0, 4)}****`;
}

/**
 * Loads keys from BYBIT_API_KEY / BYBIT_API_SECRET, or from a JSON file {"apiKey","apiSecret"} that
 * only its owner can read (mode 0600 or stricter). Errors never contain the secret.
 */
export function loadCredentials(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Credentials {
  if (options.file) {
    let mode: number;
    try {
      mode = statSync(options.file).mode & 0o777;
    } catch (err) {
      throw new ConfigError(`key file ${options.file} cannot be read: ${(err as Error).message}`, 'keyFile');
    }
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        `key file ${options.file} has mode ${mode.toString(8)}; it must be readable by its owner only: chmod 600 ${options.file}`,
        'keyFile',
      );
    }
    const text = readFileSync(options.file, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The file holds the secret: do not echo its content or the parser's excerpt of it.
      throw new ConfigError(`key file ${options.file} is not valid JSON (expected {"apiKey": "...", "apiSecret": "..."})`, 'keyFile');
    }
    const p = parsed as { apiKey?: unknown; apiSecret?: unknown };
    if (typeof p.apiKey !== 'string' || typeof p.apiSecret !== 'string' || !p.apiKey || !p.apiSecret) {
      throw new ConfigError(`key file ${options.file} needs string fields apiKey and apiSecret`, 'keyFile');
    }
    return wrap(p.apiKey, p.apiSecret, options.file);
  }
  const env = options.env ?? process.env;
  const key = env[KEY_ENV];
  const secret = env[SECRET_ENV];
  if (!key || !secret) {
    throw new ConfigError(`live trading needs API keys: set ${KEY_ENV} and ${SECRET_ENV}, or pass --key-file <file with mode 600>`, 'keys');
  }
  return wrap(key, secret, 'env');
}

/** Removes the key and secret from any text (log lines, error messages). */
export function redactCredentials(text: string, c: Credentials | undefined): string {
  return c ? redactSecrets(text, [c.apiSecret, c.apiKey]) : text;
}
