/**
 * Every error the toolkit throws on purpose is a TaError with a stable `code`, so callers can
 * branch on the kind of failure and users get a message that says what was wrong and how to fix it.
 */
export class TaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is missing, of the wrong type or out of range. `field` names it. */
export class ConfigError extends TaError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super('CONFIG', field && !message.includes(field) ? `${field}: ${message}` : message, options);
    this.field = field;
  }
}

/** Input data is malformed (wrong shape, NaN, unparseable). */
export class DataError extends TaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATA', message, options);
  }
}

/** A file or artifact could not be read or is not what it claims to be. */
export class ArtifactError extends TaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARTIFACT', message, options);
  }
}

/** Redacts secrets from any text before it is logged or thrown. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  return out;
}
