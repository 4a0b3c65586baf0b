import { AxeBuilder } from '@axe-core/playwright';
import jsQRModule from 'jsqr';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { PNG } from 'pngjs';

// jsqr is CommonJS with an ES-style `default` in its types; at run time the import is the function itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/** Debian's chromium (installed by .ci/run with apt), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A phone as a person at the door holds it: 390×844 CSS pixels at 3 device pixels each, a touch screen, the
 * browser's language (Playwright sends it as Accept-Language and navigator.language).
 */
export function phoneContext(
  browser: Browser,
  locale: 'de-DE' | 'en-GB',
  opts: { javaScriptEnabled?: boolean } = {},
): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    locale,
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
}

/** The WCAG 2.0-2.2 A and AA rules of axe-core (and its best practices, reported for the record). */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Run axe-core on the page through @axe-core/playwright (it takes playwright-core's Page) and print every violation,
 * whatever its impact, under `label`, for the record. Returns the violations.
 */
export async function axeViolations(page: Page, label: string): Promise<AxeFinding[]> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const found = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact ?? 'unknown',
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ')),
  }));
  // Rules axe could not decide alone (e.g. contrast over an image) are listed too: they want a person's look.
  const review = results.incomplete.map((v) => `${v.id} (${v.nodes.length})`);
  console.log(
    `axe-core ${results.testEngine.version} on ${label} (${page.url()}): ${found.length} violation(s), ` +
      `${results.passes.length} rules passed, to review by hand: ${review.join(', ') || 'none'}` +
      found.map((f) => `\n  [${f.impact}] ${f.id}: ${f.help} (${f.nodes.join(', ')})`).join(''),
  );
  return found;
}

/** CSS pixels the page is wider than the window (WCAG 1.4.10 Reflow: none at 320 px). */
export function sidewaysOverflow(page: Page): Promise<number> {
  // A string, evaluated in the page: this project's TypeScript has no DOM library.
  return page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
}

/** A screenshot of `element` as the camera of a scanner would see it, decoded by jsQR (an independent decoder). */
export async function qrFromScreenshot(element: Locator): Promise<string | undefined> {
  const png = PNG.sync.read(await element.screenshot({ animations: 'disabled' }));
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)
    ?.data;
}
