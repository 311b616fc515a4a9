/**
 * tfjs backend selection, shared by every ML package: @tensorflow/tfjs-node when it loads (an
 * optional dependency: it cannot install where libtensorflow cannot be downloaded), else
 * @tensorflow/tfjs-backend-wasm, else the pure-JS cpu backend. Overridable by option or by the
 * TAT_BACKEND environment variable. The choice is announced once.
 */
import { tf } from './tfjs.js';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { installFastMatMul } from './fast-matmul.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

export interface BackendInfo {
  readonly name: BackendName;
  /** Why this backend runs, e.g. "tfjs-node not installed". */
  readonly note: string;
}

export interface InitBackendOptions {
  /** 'auto' (default) tries tensorflow -> wasm -> cpu. TAT_BACKEND overrides when set. */
  readonly prefer?: BackendPreference;
  /** Do not announce the backend (also via TAT_QUIET_BACKEND=1). */
  readonly quiet?: boolean;
  /** Where to announce it (default stderr). */
  readonly log?: (line: string) => void;
}

const ALIASES: Record<string, BackendName | 'auto'> = {
  auto: 'auto',
  node: 'tensorflow',
  'tfjs-node': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

let active: Promise<BackendInfo> | null = null;
let announced = false;

export function parseBackendPreference(value: string): BackendPreference {
  const v = ALIASES[value.trim().toLowerCase()];
  if (!v) throw new Error(`unknown backend '${value}': expected auto, node (tfjs-node), wasm or cpu`);
  return v;
}

/**
 * Whether tfjs-node could load, told without loading it: 'no-package' when it is not installed,
 * 'no-binary' when none of the native addons its package.json names (node-pre-gyp's `binary`
 * section: module_path per N-API version) exists, so importing it could only fail, after loading
 * a second tfjs (about 0.5 CPU-s per process: what every sweep worker paid at start-up);
 * 'maybe' otherwise (the import decides).
 */
export function tfjsNodeState(): 'no-package' | 'no-binary' | 'maybe' {
  let pkgFile: string;
  try {
    pkgFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    return 'no-package';
  }
  try {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { binary?: { module_name?: unknown; module_path?: unknown; napi_versions?: unknown } };
    const b = pkg.binary;
    if (!b || typeof b.module_name !== 'string' || typeof b.module_path !== 'string' || !Array.isArray(b.napi_versions) || !b.napi_versions.length) return 'maybe';
    const dir = path.dirname(pkgFile);
    const { module_name: name, module_path: where } = b;
    const found = b.napi_versions.some((v) => existsSync(path.resolve(dir, where.replaceAll('{napi_build_version}', String(v)), `${name}.node`)));
    return found ? 'maybe' : 'no-binary';
  } catch {
    return 'maybe';
  }
}

async function tryNode(): Promise<string | null> {
  const state = tfjsNodeState();
  if (state === 'no-package') return 'tfjs-node not installed';
  if (state === 'no-binary') return 'tfjs-node installed without its native binary';
  try {
    // The package is optional; its binary is absent where its install script could not run.
    await import('@tensorflow/tfjs-node' as string);
    if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node loaded but its backend did not initialise';
    return null;
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    if (/Cannot find (module|package)/.test(msg)) return 'tfjs-node not installed';
    if (/tfjs_binding/.test(msg)) return 'tfjs-node installed without its native binary';
    return `tfjs-node failed to load (${msg.split('\n')[0]})`;
  }
}

async function tryWasm(): Promise<string | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // The .wasm files sit next to the package's main file in dist/.
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(dir + path.sep);
    if (!(await tf.setBackend('wasm'))) return 'wasm backend did not initialise';
    // Route transposed / broadcast matMuls (most of backprop) onto wasm's fast 2-D path.
    installFastMatMul('wasm');
    return null;
  } catch (err) {
    return `wasm backend failed (${((err as Error).message ?? String(err)).split('\n')[0]})`;
  }
}

async function select(prefer: BackendPreference): Promise<BackendInfo> {
  tf.enableProdMode();
  const notes: string[] = [];
  const order: BackendName[] = prefer === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [prefer];
  for (const name of order) {
    if (name === 'tensorflow') {
      const why = await tryNode();
      if (!why) return { name, note: 'native TensorFlow via tfjs-node' };
      notes.push(why);
    } else if (name === 'wasm') {
      const why = await tryWasm();
      if (!why) return { name, note: notes.length ? notes.join('; ') : 'requested' };
      notes.push(why);
    } else {
      await tf.setBackend('cpu');
      return { name: 'cpu', note: notes.length ? notes.join('; ') : 'requested' };
    }
  }
  throw new Error(`backend '${prefer}' could not start: ${notes.join('; ')}`);
}

/**
 * Selects and initialises the backend once per process; later calls return the same choice.
 * Call it before building models.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (!active) {
    const env = process.env.TAT_BACKEND;
    const prefer = env ? parseBackendPreference(env) : (options.prefer ?? 'auto');
    active = select(prefer).then(async (info) => {
      await tf.ready();
      return info;
    });
    active.catch(() => {
      active = null;
    });
  }
  const info = await active;
  const quiet = options.quiet ?? process.env.TAT_QUIET_BACKEND === '1';
  if (!announced && !quiet) {
    announced = true;
    (options.log ?? ((l: string) => process.stderr.write(l + '\n')))(`[tfjs] backend: ${info.name} (${info.note})`);
  }
  return info;
}

/** The backend in use now (after initBackend). */
export function currentBackend(): string {
  return tf.getBackend();
}

export { tf };
