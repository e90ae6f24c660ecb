import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { requireTool } from '../helpers/tools.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const RESULTS_DIR = join(process.cwd(), 'test-results');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Launches Debian's Chromium, or skips the test naming the package to install (fails under
 * TWOFOLD_TEST_STRICT=1). Returns null when skipped.
 */
export async function launchBrowser(t: TestContext): Promise<Browser | null> {
  if (!requireTool(t, chromiumAvailable(), `Chromium at ${CHROMIUM} (Debian package \`chromium\`)`)) return null;
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A browser context that records console errors (a CSP violation shows up there) so that
 * `assertNoConsoleErrors` can fail a test whose pages broke the policy.
 */
export async function newContext(browser: Browser, opts: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, ...opts });
  context.setDefaultTimeout(10_000);
  return context;
}

const consoleErrors = new WeakMap<Page, string[]>();

export async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  consoleErrors.set(page, errors);
  page.on('console', (msg) => {
    // A 4xx page that the test asked for on purpose also logs "Failed to load resource".
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return page;
}

export function assertNoConsoleErrors(page: Page): void {
  assert.deepEqual(consoleErrors.get(page) ?? [], [], 'the page logged errors (a CSP violation?)');
}

/** Saves a full-page screenshot as test-results/<group>/<name>.png and returns the path. */
export async function screenshot(page: Page, group: string, name: string): Promise<string> {
  const path = join(RESULTS_DIR, group, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Screenshots in the light and the dark colour scheme. */
export async function screenshotBothSchemes(page: Page, group: string, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await screenshot(page, group, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await screenshot(page, group, `${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: null });
}

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page and fails on serious or critical violations. The pages' CSP
 * (script-src 'self') refuses the inline <script> that page.addScriptTag would add, so axe is
 * evaluated through the DevTools protocol instead, which the CSP does not govern. Checked in both
 * colour schemes (contrast differs).
 */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  axeSource ??= readFileSync(AXE_PATH, 'utf8');
  for (const colorScheme of ['light', 'dark'] as const) {
    // Reduced motion turns off the colour transitions, so axe never measures a colour mid-fade.
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const hasAxe = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
    if (!hasAxe) await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
      [],
      `axe-core found serious or critical problems on ${label} (${colorScheme})`,
    );
  }
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: null });
}

/** True when the page scrolls sideways at the current viewport width. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; width: number }> {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, width: window.innerWidth }));
}

/** The text of the elements an element's aria-describedby points at (its accessible description). */
export async function describedByText(page: Page, locator: ReturnType<Page['locator']>): Promise<string> {
  const ids = (await locator.getAttribute('aria-describedby')) ?? '';
  const parts: string[] = [];
  for (const id of ids.split(/\s+/).filter(Boolean)) parts.push(((await page.locator(`[id="${id}"]`).textContent()) ?? '').trim());
  return parts.join(' ');
}
