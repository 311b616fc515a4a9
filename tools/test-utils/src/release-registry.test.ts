// The release path, end to end, against a local npm registry: verdaccio on 127.0.0.1 (temp
// config and storage), a temp copy of the workspace (manifests, READMEs and the built dist/ of every
// public package), `changeset version` with one changeset, `changeset publish` (pnpm publish under
// it: workspace:^ becomes a real range), then a fresh project installs a package from that registry
// and imports and requires it. A second patch to core publishes core alone.
// Needs the packages built (`pnpm build`; `npm test` builds first); skips with a reason otherwise.
// Nothing leaves 127.0.0.1: every manifest's publishConfig.registry is the local registry too.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { freePort } from './index.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = (n: string): string => path.join(root, 'node_modules', '.bin', n);
const verdaccioBin = path.join(root, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  publishConfig?: Record<string, string>;
}
interface Pkg {
  rel: string;
  manifest: Manifest;
}

const publicPackages: Pkg[] = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group)).sort()) {
    const file = path.join(root, group, name, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (!manifest.private) publicPackages.push({ rel: `${group}/${name}`, manifest });
  }
}
const unbuilt = publicPackages.filter((p) => !existsSync(path.join(root, p.rel, 'dist')));
const ready = unbuilt.length === 0 && existsSync(verdaccioBin);
if (!ready) {
  console.warn(
    `[skip] release dry run: ${existsSync(verdaccioBin) ? `not built: ${unbuilt.map((p) => p.rel).join(', ')} (run pnpm build; npm test builds first)` : 'verdaccio is not installed (pnpm install)'}`,
  );
}

const pnpmCmd = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? process.env.npm_execpath : 'pnpm';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${out.split('\n').slice(-40).join('\n')}`);
  return out;
}


const work = mkdtempSync(path.join(os.tmpdir(), 'tat-registry-'));
let registry = '';
let token = '';
let server: ChildProcess | null = null;
let serverLog = '';
let ws = '';
/** The environment of every release command: npm and pnpm read the temp npmrc, nothing else. */
let releaseEnv: NodeJS.ProcessEnv = {};

async function startRegistry(): Promise<void> {
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  const storage = path.join(work, 'storage');
  const config = path.join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${storage}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(work, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}', // no proxy: nothing is fetched from elsewhere
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  server = spawn(process.execPath, [verdaccioBin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${registry}-/ping`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`verdaccio did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A user for publishing (verdaccio's htpasswd: the first PUT creates it and returns a token).
  const user = await fetch(`${registry}-/user/org.couchdb.user:release-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release-test', password: 'release-test-password' }),
  });
  const body = (await user.json()) as { token?: string };
  if (!user.ok || !body.token) throw new Error(`verdaccio refused the test user: ${user.status} ${JSON.stringify(body)}`);
  token = body.token;
}

/** The temp workspace: what changesets and pnpm publish read, with each package's built dist/. */
function copyWorkspace(): string {
  const dir = path.join(work, 'ws');
  for (const f of ['package.json', 'pnpm-workspace.yaml', 'LICENSE']) cpSync(path.join(root, f), path.join(dir, f));
  cpSync(path.join(root, 'tools/scripts/prepack.mjs'), path.join(dir, 'tools/scripts/prepack.mjs'));
  cpSync(path.join(root, '.changeset', 'config.json'), path.join(dir, '.changeset', 'config.json'));
  for (const { rel, manifest } of publicPackages) {
    const src = path.join(root, rel);
    const dst = path.join(dir, rel);
    cpSync(path.join(src, 'dist'), path.join(dst, 'dist'), { recursive: true });
    for (const f of ['README.md', 'CHANGELOG.md']) if (existsSync(path.join(src, f))) cpSync(path.join(src, f), path.join(dst, f));
    // Belt and braces: even a misread npmrc publishes to the local registry only.
    const m = { ...manifest, publishConfig: { ...manifest.publishConfig, registry } };
    writeFileSync(path.join(dst, 'package.json'), `${JSON.stringify(m, null, 2)}\n`);
    // pnpm publish reads a workspace dependency's version through node_modules, as after `pnpm install`.
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const target = publicPackages.find((p) => p.manifest.name === dep);
      if (!target) continue;
      const link = path.join(dst, 'node_modules', dep);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(dir, target.rel), link, 'dir');
    }
  }
  const git = (...a: string[]): string => run('git', ['-c', 'user.name=release-test', '-c', 'user.email=release-test@127.0.0.1', ...a], dir, process.env);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'workspace copy');
  return dir;
}

/** One release: a changeset, `changeset version`, a commit, `changeset publish`. Returns publish's output. */
function release(changeset: string): string {
  writeFileSync(path.join(ws, '.changeset', `release-${Date.now()}.md`), changeset);
  run(bin('changeset'), ['version'], ws, releaseEnv);
  // `changeset version` rewrote the manifests; the dist/ copied here is still the build of these
  // sources, so keep prepack (which rebuilds when dist/ is older than package.json) from rebuilding.
  const now = new Date();
  for (const { rel } of publicPackages) utimesSync(path.join(ws, rel, 'dist'), now, now);
  for (const { rel } of publicPackages) {
    const d = path.join(ws, rel, 'dist');
    for (const f of readdirSync(d)) utimesSync(path.join(d, f), now, now);
  }
  run('git', ['-c', 'user.name=release-test', '-c', 'user.email=release-test@127.0.0.1', 'commit', '-q', '-am', 'version'], ws, process.env);
  return run(bin('changeset'), ['publish'], ws, releaseEnv);
}

/** GET from the registry; a pooled keep-alive socket the server has since closed (EPIPE) is retried. */
async function registryGet(url: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url);
    } catch (e) {
      if (attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function registryVersions(name: string): Promise<string[]> {
  const r = await registryGet(`${registry}${name.replace('/', '%2f')}`);
  if (r.status === 404) return [];
  const doc = (await r.json()) as { versions?: Record<string, unknown> };
  return Object.keys(doc.versions ?? {}).sort();
}

describe.skipIf(!ready)('release dry run against a local registry (verdaccio)', () => {
  beforeAll(async () => {
    await startRegistry();
    const npmrc = path.join(work, 'npmrc');
    const host = registry.replace(/^http:/, '');
    writeFileSync(npmrc, `registry=${registry}\n${host}:_authToken=${token}\n`);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
    releaseEnv = { ...env, NPM_CONFIG_USERCONFIG: npmrc, npm_config_registry: registry };
    ws = copyWorkspace();
  }, 120_000);

  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  it('changeset version + changeset publish put every public package on the registry, with real ranges', async () => {
    expect(registry.startsWith('http://127.0.0.1:')).toBe(true);
    const out = release(`---\n'@task-agnostic/core': patch\n---\n\nrelease dry run\n`);
    const core = JSON.parse(readFileSync(path.join(ws, 'packages/core/package.json'), 'utf8')) as Manifest;
    expect(core.version).not.toBe(publicPackages.find((p) => p.rel === 'packages/core')!.manifest.version);
    for (const { manifest } of publicPackages) {
      const want = manifest.name === '@task-agnostic/core' ? core.version : manifest.version;
      expect(await registryVersions(manifest.name), `${manifest.name} on the registry\n${out}`).toEqual([want]);
    }
    const risk = (await (await registryGet(`${registry}@task-agnostic%2frisk`)).json()) as { versions: Record<string, Manifest> };
    const published = Object.values(risk.versions)[0]!;
    expect(published.dependencies?.['@task-agnostic/core']).toBe(`^${core.version}`);
    expect(JSON.stringify(published)).not.toMatch(/workspace:/);
    // changeset publish tags what it published.
    const tags = run('git', ['tag'], ws, process.env);
    expect(tags).toMatch(new RegExp(`@task-agnostic/core@${core.version.replace(/\./g, '\\.')}`));
  }, 900_000);

  it('a fresh project installs @task-agnostic/risk from the registry; import and require both work', () => {
    const app = path.join(work, 'consumer');
    mkdirSync(app, { recursive: true });
    const { packageManager } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { packageManager: string };
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '0.0.0', packageManager }));
    // Only the @task-agnostic scope comes from the local registry; zod from the usual one (or the store).
    writeFileSync(path.join(app, '.npmrc'), `@task-agnostic:registry=${registry}\n`);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_|^NPM_CONFIG_USERCONFIG$/i.test(k)) env[k] = v;
    run(pnpmCmd, ['add', '@task-agnostic/risk', '@task-agnostic/core', '--ignore-workspace', '--prefer-offline', '--reporter=silent'], app, env);
    const core = JSON.parse(readFileSync(path.join(ws, 'packages/core/package.json'), 'utf8')) as Manifest;
    const esm = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { RiskGate } from '@task-agnostic/risk';
         import { isConfigError } from '@task-agnostic/core';
         let named = false;
         try { new RiskGate({ baseSize: 2 }); } catch (e) { named = isConfigError(e) && /baseSize/.test(e.message); }
         console.log(JSON.stringify({ gate: typeof new RiskGate().check, named }));`,
      ],
      app,
      env,
    );
    expect(JSON.parse(esm.trim())).toEqual({ gate: 'function', named: true });
    const cjs = run(process.execPath, ['-e', `const r = require('@task-agnostic/risk'); console.log(typeof r.RiskGate, require('@task-agnostic/core/package.json').version)`], app, env);
    expect(cjs.trim()).toBe(`function ${core.version}`);
    // zod is their peer: pnpm adds it (from the usual registry) once, and both packages use that copy.
    expect(readdirSync(path.join(app, 'node_modules', '.pnpm')).filter((d) => d.startsWith('zod@'))).toHaveLength(1);
    const installed = readdirSync(path.join(app, 'node_modules', '@task-agnostic', 'risk'));
    expect(installed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist', 'package.json']));
  }, 180_000);

  it('the next patch release of core publishes core alone', async () => {
    const before = Object.fromEntries(await Promise.all(publicPackages.map(async (p) => [p.manifest.name, await registryVersions(p.manifest.name)] as const)));
    release(`---\n'@task-agnostic/core': patch\n---\n\nsecond release\n`);
    const changed: string[] = [];
    for (const { manifest } of publicPackages) {
      const after = await registryVersions(manifest.name);
      if (after.join() !== before[manifest.name]!.join()) changed.push(manifest.name);
    }
    expect(changed).toEqual(['@task-agnostic/core']);
    expect(await registryVersions('@task-agnostic/core')).toHaveLength(2);
  }, 900_000);
});
