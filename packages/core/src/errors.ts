/**
 * Every error the toolkit throws on purpose is a TaError with a stable `code`, so callers can
 * branch on the kind of failure and users get a message that says what was wrong and how to fix it.
 *
 * Errors are branded with a registry symbol, so `instanceof` and the `is*Error` guards hold even
 * when a project ends up with two copies of this package (two versions side by side in
 * node_modules, or the ESM and the CommonJS build both loaded).
 */
const BRAND = Symbol.for('@task-agnostic/core/TaError');

type Branded = Error & { readonly code: string; readonly [BRAND]: true };

function branded(x: unknown): x is Branded {
  return typeof x === 'object' && x !== null && (x as { [BRAND]?: unknown })[BRAND] === true;
}

export class TaError extends Error {
  readonly code: string;
  readonly [BRAND] = true as const;
  /** The `code` every instance of this class carries, for the classes that fix one. */
  static readonly errorCode: string | undefined = undefined;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
  /** Brand-based: true across duplicate copies of this package (see above). */
  static override [Symbol.hasInstance](x: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, x)) return true;
    if (!branded(x)) return false;
    if (this === TaError || this.name === 'TaError') return true;
    // A class that fixes its code matches any copy's instance with that code and class name.
    const code = Object.prototype.hasOwnProperty.call(this, 'errorCode') ? (this as typeof TaError).errorCode : undefined;
    return code !== undefined && x.code === code && x.name === this.name;
  }
}

/** A configuration value is missing, of the wrong type or out of range. `field` names it. */
export class ConfigError extends TaError {
  static override readonly errorCode = 'CONFIG';
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super('CONFIG', field && !message.includes(field) ? `${field}: ${message}` : message, options);
    this.field = field;
  }
}

/** Input data is malformed (wrong shape, NaN, unparseable). */
export class DataError extends TaError {
  static override readonly errorCode = 'DATA';
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATA', message, options);
  }
}

/** A file or artifact could not be read or is not what it claims to be. */
export class ArtifactError extends TaError {
  static override readonly errorCode = 'ARTIFACT';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT', message, options);
  }
}

/** Any toolkit error, from this copy of the package or another. */
export function isTaError(x: unknown): x is TaError {
  return branded(x);
}

/** A ConfigError from any copy of this package (checks the brand and the code, not the prototype). */
export function isConfigError(x: unknown): x is ConfigError {
  return branded(x) && x.code === 'CONFIG';
}

/** A DataError from any copy of this package. */
export function isDataError(x: unknown): x is DataError {
  return branded(x) && x.code === 'DATA';
}

/** An ArtifactError from any copy of this package. */
export function isArtifactError(x: unknown): x is ArtifactError {
  return branded(x) && x.code === 'ARTIFACT';
}

/** Redacts secrets from any text before it is logged or thrown. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  return out;
}
