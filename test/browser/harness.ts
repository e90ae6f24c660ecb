import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireCommand, requireTool } from '../helpers/tools.js';

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

/** What a test gets from its file's shared setup. */
export interface Shared {
  server: TestServer;
  browser: Browser;
}

/** A test's own context and page on the shared browser; `base` is the server's public address. */
export interface Opened extends Shared {
  base: string;
  context: BrowserContext;
  page: Page;
}

/**
 * What a file's tests share: one Chromium and one server (SQLite, PUBLIC_URL http://localhost:<port>,
 * which WebAuthn needs as its host), started by the first test that asks and closed after the file.
 * Call it once at the top of the file. `commands` are [command, Debian package] pairs the tests
 * need besides Chromium.
 */
export function sharedBrowserAndServer(emailPrefix: string, commands: [command: string, debianPackage: string][] = []) {
  let server: TestServer | undefined;
  let browser: Browser | null | undefined;
  let counter = 0;

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A unique address per test, so tests share one server without meeting each other. */
  function email(prefix = emailPrefix): string {
    counter += 1;
    return `${prefix}-${counter}-${Date.now().toString(36)}@example.com`;
  }

  /** The shared server and browser, or null when the test was skipped (a tool or Chromium missing). */
  async function setup(t: TestContext): Promise<Shared | null> {
    for (const [command, debianPackage] of commands) if (!requireCommand(t, command, debianPackage)) return null;
    if (browser === undefined) browser = await launchBrowser(t);
    else if (browser === null) await launchBrowser(t); // skips (or throws under STRICT) again
    if (!browser) return null;
    server ??= await startTestServer('sqlite', { publicHost: true });
    return { server, browser };
  }

  /** setup, then a new context (with `options`) and a page in it; `base` is the address to open. */
  async function open(t: TestContext, options: BrowserContextOptions = {}): Promise<Opened | null> {
    const s = await setup(t);
    if (!s) return null;
    const context = await newContext(s.browser, options);
    return { ...s, base: s.server.publicUrl, context, page: await newPage(context) };
  }

  return { email, setup, open };
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

/** A phone's screen: 375 pixels wide, touch, twice the pixel density. */
export const PHONE_WIDTH = 375;
export const PHONE: BrowserContextOptions = { viewport: { width: PHONE_WIDTH, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** check(name): fails when the page scrolls sideways on the phone's screen, and screenshots it as phone-<name>. */
export function phoneCheck(page: Page, group: string): (name: string) => Promise<void> {
  return async (name) => {
    const { scrollWidth } = await horizontalOverflow(page);
    assert.ok(scrollWidth <= PHONE_WIDTH, `${name} scrolls sideways: ${scrollWidth}px wide`);
    await screenshotBothSchemes(page, group, `phone-${name}`);
  };
}

// ---- page steps shared by the browser tests ----

/** The signup page → a new account → Account settings. */
export async function signUp(page: Page, base: string, address: string, password: string): Promise<void> {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.waitForURL(`${base}/settings`);
}

/** Fills in and sends the login form the page shows (which keeps its `next`). */
export async function submitLogin(page: Page, address: string, password: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** The login page, then the password step. */
export async function logIn(page: Page, base: string, address: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await submitLogin(page, address, password);
}

/** The header's Log out, and the login page that follows. */
export async function logOut(page: Page, base: string): Promise<void> {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.waitForURL(`${base}/login?logged_out=1`);
}

export function twoFactorSection(page: Page) {
  return page.getByRole('region', { name: 'Two-factor authentication', exact: true });
}

/** Account settings → "Setup two-factor authentication" → the setup page. */
export async function openTwoFactorSetup(page: Page, base: string): Promise<void> {
  await twoFactorSection(page).getByRole('button', { name: 'Setup two-factor authentication', exact: true }).click();
  await page.waitForURL(`${base}/settings/two-factor/setup`);
}

/** The setup page: an app code → Verify → the page of the recovery codes. */
export async function confirmTwoFactorSetup(page: Page, code: string): Promise<void> {
  await page.getByLabel('Verification code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes', level: 1 }).waitFor();
}

/** The codes of the "shown once" page (after turning two-factor on, or regenerating): 10 distinct. */
export async function shownCodes(page: Page): Promise<string[]> {
  const codes = (await page.locator('#recovery-code-list li code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  assert.equal(new Set(codes).size, 10);
  return codes;
}

/** Asserts that the settings page's security log has each of `entries`. */
export async function assertSecurityLogHas(page: Page, entries: string[]): Promise<void> {
  const log = (await page.getByRole('region', { name: 'Security log' }).getByRole('listitem').allTextContents()).join('\n');
  for (const words of entries) assert.ok(log.includes(words), `the security log has “${words}”`);
}
