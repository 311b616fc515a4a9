/**
 * The checksum of model.json itself (`manifestSha256`): sha256 of a canonical JSON of every field
 * but the checksum (object keys sorted, no whitespace). The weights' own sha256 is one of those
 * fields, so one checksum covers the manifest's numbers (normaliser, task states and thresholds,
 * windowLength, calibration, decision policy, ...) and, through it, the weights. Numbers are
 * written by JSON.stringify of the parsed values, so an edit of any number changes the digest
 * while reformatting the file (indentation, key order) does not.
 */
import { createHash } from 'node:crypto';

export const MANIFEST_CHECKSUM_FIELD = 'manifestSha256';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonical(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** sha256 (hex) of `json` without its `manifestSha256` field, in canonical JSON. */
export function manifestChecksum(json: object): string {
  const rest: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  delete rest[MANIFEST_CHECKSUM_FIELD];
  return createHash('sha256').update(canonical(rest)).digest('hex');
}
