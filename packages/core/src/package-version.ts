import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The `version` of the package.json nearest above `fromDir` (for a CLI's `--version`: pass the
 * directory of the running file, e.g. `path.dirname(fileURLToPath(import.meta.url))`).
 * Returns 'unknown' when none is found, never throws.
 */
export function packageVersion(fromDir: string): string {
  let dir = fromDir;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one folder up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}
