/**
 * Says exactly how two feature-name lists differ, e.g. "feature 12 is 'rsi_14' in the artifact
 * but 'rsi_21' in this feature set", and fingerprints a list so model.json can be checked.
 */
import { createHash } from 'node:crypto';

/** null when equal; otherwise one sentence naming the first difference (and how many there are). */
export function describeFeatureDifference(
  a: readonly string[],
  b: readonly string[],
  aLabel = 'the artifact',
  bLabel = 'this feature set',
): string | null {
  const n = Math.min(a.length, b.length);
  let first = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  const parts: string[] = [];
  if (a.length !== b.length) {
    parts.push(`${aLabel} has ${a.length} features but ${bLabel} has ${b.length}`);
    const onlyA = a.filter((x) => !b.includes(x));
    const onlyB = b.filter((x) => !a.includes(x));
    if (onlyA.length) parts.push(`only in ${aLabel}: ${preview(onlyA)}`);
    if (onlyB.length) parts.push(`only in ${bLabel}: ${preview(onlyB)}`);
  }
  if (first >= 0) {
    const more = count > 1 ? ` (${count - 1} more position${count > 2 ? 's' : ''} differ)` : '';
    parts.push(`feature ${first} is '${a[first]}' in ${aLabel} but '${b[first]}' in ${bLabel}${more}`);
  }
  return parts.length ? parts.join('; ') : null;
}

function preview(xs: readonly string[]): string {
  const shown = xs.slice(0, 5).map((x) => `'${x}'`).join(', ');
  return xs.length > 5 ? `${shown} and ${xs.length - 5} more` : shown;
}

/** sha256 of the names joined by newlines: equal lists (same names, same order) have equal fingerprints. */
export function featureFingerprint(names: readonly string[]): string {
  return createHash('sha256').update(names.join('\n')).digest('hex');
}
