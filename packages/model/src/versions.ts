/**
 * The versions of the packages a model artifact depends on, read from their package.json files at
 * build time (tsup inlines these JSON imports, so the published bundle carries the numbers it was
 * built with and never reads the workspace at run time).
 */
import { name as coreName, version as coreVersion } from '../../core/package.json';
import { name as encodersName, version as encodersVersion } from '../../encoders/package.json';
import { name as featuresName, version as featuresVersion } from '../../features/package.json';
import { name as headsName, version as headsVersion } from '../../heads/package.json';
import { name as modelName, version as modelVersion } from '../package.json';
import { name as tfName, version as tfVersion } from '../../tf/package.json';

/** package name -> version, e.g. { '@task-agnostic/encoders': '0.1.0', ... }. */
export const PACKAGE_VERSIONS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    [
      [modelName, modelVersion],
      [coreName, coreVersion],
      [encodersName, encodersVersion],
      [featuresName, featuresVersion],
      [headsName, headsVersion],
      [tfName, tfVersion],
    ],
  ),
);

/**
 * Whether two versions are API-compatible under semver: the same major, and for 0.x the same
 * minor (0.x minors may break). Pre-release and build tags are ignored.
 */
export function versionsCompatible(a: string, b: string): boolean {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return a === b;
  if (pa[0] !== pb[0]) return false;
  return pa[0] !== 0 || pa[1] === pb[1];
}

function parseVersion(v: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** The packages whose versions differ incompatibly between an artifact and this build. */
export function incompatibleVersions(
  artifact: Readonly<Record<string, string>>,
  current: Readonly<Record<string, string>> = PACKAGE_VERSIONS,
): { name: string; artifact: string; current: string }[] {
  const out: { name: string; artifact: string; current: string }[] = [];
  for (const [name, version] of Object.entries(artifact)) {
    const now = current[name];
    if (now !== undefined && !versionsCompatible(version, now)) out.push({ name, artifact: version, current: now });
  }
  return out;
}
