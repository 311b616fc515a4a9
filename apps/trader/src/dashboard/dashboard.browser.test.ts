/**
 * Proof in headless Chromium (playwright-core driving the system chromium) against a paper replay
 * of real BTCUSDT 1h candles through `runTrading --dashboard`: the page loads with no console
 * errors; the equity chart and the decisions table update as candles arrive; the kill button (a
 * confirmation, the token) engages the kill switch and the journal records it; the read-only viewer
 * bound beyond loopback (127.0.0.2, loopback traffic only) refuses a request without the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { readCandlesCsvSync, sliceColumns } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { candleFile } from '@task-agnostic/test-utils';
import { parseCli, type DashboardArgs, type RunArgs } from '../cli-args.js';
import { Journal } from '../journal.js';
import { writeUntrainedModel } from '../model-factory.js';
import { runDashboard, runTrading } from '../run.js';

const file = candleFile('bybit_BTCUSDT_1h.csv');
const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!browserPath) console.warn('[skip] chromium is not installed (apt-get install -y chromium): the dashboard browser test is skipped');
const CONFIG = {
  fusion: 'consistency',
  fusionConfig: { minConfidence: 0.3, minAgreement: 0.3, baseSizeFraction: 1 },
  risk: { minConfidence: 0.25, minAgreement: 0.15, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } },
  account: { initialEquity: 10_000, takerFeeRate: 0.00055, makerFeeRate: 0.0002, qtyStep: 0.001 },
  statusEvery: 0,
};
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

// Browser-side expressions (strings: this file is compiled without the DOM library).
const READY = `document.body.dataset.ready === '1'`;
const POINTS = `Number(document.querySelector('#equity').dataset.points)`;
const NEWEST = `Number(document.querySelector('#decisions').dataset.newest || 0)`;

/** Polls a browser-side expression (page.evaluate runs it over the DevTools protocol, which the page's CSP allows; waitForFunction's eval would not be). */
const untilPage = async (page: Page, expr: string, ms = 60_000): Promise<void> => {
  const t = Date.now();
  while (!(await page.evaluate(expr))) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const until = async (what: string, f: () => boolean, ms = 60_000): Promise<void> => {
  const t = Date.now();
  while (!f()) {
    if (Date.now() - t > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(!file || !browserPath)('dashboard in headless Chromium (paper replay of real BTCUSDT 1h candles)', () => {
  let dir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tat-dash-browser-'));
    await initBackend();
    const all = readCandlesCsvSync(file!).candles;
    (await writeUntrainedModel(path.join(dir, 'model'), sliceColumns(all, 0, 1500), { seed: 11 })).dispose();
    const lines = readFileSync(file!, 'utf8').split('\n');
    writeFileSync(path.join(dir, 'replay.csv'), [lines[0], ...lines.slice(1501, 1501 + 600)].join('\n') + '\n');
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(CONFIG));
    // A fresh profile: no extensions, no sync, nothing from another run.
    browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), { executablePath: browserPath!, headless: true, args: FLAGS, viewport: { width: 1400, height: 1250 } });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });

  function watch(page: Page): string[] {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return errors;
  }

  it('updates live as candles arrive, and the kill button engages the kill switch, which the journal records', async () => {
    const journal = path.join(dir, 'paper.db');
    const args = parseCli(['paper', '--model', path.join(dir, 'model'), '--replay', path.join(dir, 'replay.csv'), '--speed', '30000x', '--journal', journal,
      '--config', path.join(dir, 'config.json'), '--log-file', path.join(dir, 'paper.log'), '--run-tag', 'web', '--dashboard', '127.0.0.1:0']) as RunArgs;
    const out: string[] = [];
    const ac = new AbortController();
    const run = runTrading(args, { out: (l) => out.push(l), signal: ac.signal });
    try {
      await until('the dashboard URL', () => out.some((l) => l.startsWith('dashboard on ')));
      const url = out.find((l) => l.startsWith('dashboard on '))!.slice('dashboard on '.length);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const page = await browser.newPage();
      const errors = watch(page);
      await page.goto(url);
      await untilPage(page, READY, 60_000);
      // The token left the address bar.
      expect(page.url()).not.toContain('token=');
      const read = () => page.evaluate(`({
        points: ${POINTS},
        newest: ${NEWEST},
        rows: document.querySelectorAll('#decisions tr.row').length,
        canvases: document.querySelectorAll('#equity canvas').length,
      })`) as Promise<{ points: number; newest: number; rows: number; canvases: number }>;
      const before = await read();
      await untilPage(page, `${POINTS} >= ${before.points + 20} && ${NEWEST} >= ${before.newest + 20}`, 90_000);
      const after = await read();
      expect(after.canvases).toBeGreaterThan(0);
      expect(after.rows).toBeGreaterThan(before.rows);
      expect(await page.locator('#conn').textContent()).toBe('live');
      // The decisions shown are the journal's: the newest row's reasoning and verdict.
      const j = Journal.openReadOnly(journal);
      const id = Number(await page.locator('#decisions tr.row').first().getAttribute('data-id'));
      const row = j.all<{ reasoning: string; action: string }>('SELECT reasoning, action FROM decisions WHERE id = ?', id)[0]!;
      j.close();
      await page.locator(`#decisions tr.row[data-id="${id}"]`).click();
      const detail = page.locator(`#decisions tr.row[data-id="${id}"] + tr.detail`);
      expect(await detail.isVisible()).toBe(true);
      expect(await detail.textContent()).toContain(row.reasoning.slice(0, 40));
      const shot = process.env.TAT_DASHBOARD_SCREENSHOT ?? path.join(dir, 'dashboard.png');
      await untilPage(page, `${POINTS} >= 250`, 90_000);
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(20_000);

      // The kill switch: a confirmation dialog (accepted), the token from the URL in the header.
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.type());
        void d.accept();
      });
      await page.click('#kill');
      await untilPage(page, `/kill switch requested/.test(document.querySelector('#notice').textContent)`, 30_000);
      expect(dialogs).toEqual(['confirm']);
      // The next candle engages it; the live stream shows it.
      await untilPage(page, `!document.querySelector('#killed').hidden`, 60_000);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      ac.abort();
      expect(await run).toBe(0);
    }
    const j = Journal.openReadOnly(journal);
    const kills = j.all<{ data_json: string }>("SELECT data_json FROM events WHERE kind = 'kill'");
    expect(kills).toHaveLength(1);
    expect(JSON.parse(kills[0]!.data_json)).toMatchObject({ symbol: 'BTCUSDT', reason: 'dashboard: dashboard kill button' });
    const vetoed = j.all<{ reasons_json: string }>("SELECT v.reasons_json FROM verdicts v JOIN decisions d ON d.id = v.decision_id WHERE d.ts_ms >= (SELECT json_extract(data_json, '$.candleTs') FROM events WHERE kind = 'kill')");
    expect(vetoed.length).toBeGreaterThan(0);
    expect(vetoed.every((v) => v.reasons_json.includes('kill switch engaged'))).toBe(true);
    j.close();
  }, 300_000);

  it('the read-only viewer bound beyond loopback refuses requests without the token and shows the past run with it', async () => {
    const journal = path.join(dir, 'paper.db');
    const token = 'browser-test-token-0123456789';
    const args = parseCli(['dashboard', '--journal', journal, '--listen', '127.0.0.2:0', '--dashboard-token', token]) as DashboardArgs;
    const out: string[] = [];
    const ac = new AbortController();
    const done = runDashboard(args, { out: (l) => out.push(l), signal: ac.signal });
    try {
      await until('the viewer URL', () => out.some((l) => l.includes(' on http://')));
      const url = out[0]!.split(' on ')[1]!;
      const origin = new URL(url).origin;
      expect(origin).toMatch(/^http:\/\/127\.0\.0\.2:/);
      const page = await browser.newPage();
      for (const p of ['/', '/api/summary', '/assets/dashboard.js']) {
        const r = await page.goto(origin + p);
        expect(r!.status(), p).toBe(401);
      }
      const bad = await page.goto(`${origin}/?token=wrong-token-0123456789`);
      expect(bad!.status()).toBe(401);
      await page.close();
      // A fresh tab: the refused navigations above logged their own 401s (and favicon requests).
      const tab = await browser.newPage();
      const errors = watch(tab);
      const ok = await tab.goto(url);
      expect(ok!.status()).toBe(200);
      await untilPage(tab, READY, 60_000);
      expect(await tab.locator('#mode').textContent()).toContain('read-only');
      expect(await tab.locator('#kill').isHidden()).toBe(true);
      expect(await tab.locator('#killed').isVisible()).toBe(true);
      expect(Number(await tab.locator('#equity').getAttribute('data-points'))).toBeGreaterThan(100);
      expect(await tab.locator('#decisions tr.row').count()).toBe(50);
      await tab.click('#older');
      await untilPage(tab, `document.querySelectorAll('#decisions tr.row').length === 100`);
      expect(errors).toEqual([]);
      await tab.close();
    } finally {
      ac.abort();
      expect(await done).toBe(0);
    }
  }, 120_000);
});
