import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { GpioDoorStub } from '../../firmware-stubs/gpio-door.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { issuePass } from '../../src/access/issue.js';
import { launchChromium, sidewaysOverflow } from '../helpers/browser.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { type AdminHarness, startAdminHarness } from '../integration/admin-api/harness.js';
import { makeIssuer } from '../integration/admin-api/issuer.js';

const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');
const BAY_EUI = '70b3d5e75e00a001';
/** ms to wait for something the page shows after a real device changed (a loaded 2-core machine) */
const SEEN_MS = 15_000;

const card = (page: Page, id: string) => page.locator(`article.card[data-device="${id}"]`);

describe('the dashboard in a real browser', () => {
  let broker: Broker;
  let h: AdminHarness;
  let door: GpioDoorStub;
  let bay: ChirpstackSensorStub;
  let browser: Browser;
  const issuer = makeIssuer();

  beforeAll(async () => {
    broker = await startMosquitto();
    h = await startAdminHarness({
      brokerUrl: broker.url,
      devices: [{ id: 'bay-1', driver: 'chirpstack-parking', settings: { dev_eui: BAY_EUI, codec: 'nwave-nps405' } }],
    });
    door = new GpioDoorStub({ dir: h.gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
    bay = new ChirpstackSensorStub({ brokerUrl: broker.url, devEui: BAY_EUI });
    await bay.start();
    const imported = await h.call('POST', '/api/keys', { body: issuer.jwks });
    expect(imported.status).toBe(200);
    browser = await launchChromium();
    mkdirSync(RESULTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await bay?.stop();
    await door?.stop();
    await h?.stop();
    await broker?.stop();
  });

  it('signs in, adds a lock through the form with errors by field, follows the door and a bay live, and shows why a pass is denied', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await page.goto(h.admin.url);

    // A wrong token is refused and the sign-in form says so.
    await page.fill('#token', 'x'.repeat(43));
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-form .form-msg'), { timeout: SEEN_MS }).toMatch(/refused/);

    await page.fill('#token', h.admin.token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])', { timeout: SEEN_MS });
    await page.waitForSelector('#live.is-live', { timeout: SEEN_MS });
    await expect.poll(() => page.textContent('#gw-id')).toBe('test-gw');

    // Add the door lock through the form: a relay line that does not exist is refused next to its field.
    await page.fill('#add-id', 'door-1');
    await page.fill('#add-name', 'Service room');
    await page.selectOption('#add-driver', 'gpio-relay-lock');
    await page.fill('#f-relay_pin', '40');
    await page.fill('#f-contact_pin', '27');
    await page.click('#add-form button[type=submit]');
    const relayProblem = page.locator('.field[data-field="settings.relay_pin"] .problem');
    await expect.poll(() => relayProblem.textContent(), { timeout: SEEN_MS }).toMatch(/0-27/);
    expect(await page.locator('.field[data-field="settings.contact_pin"] .problem').textContent()).toBe('');
    expect(h.gateway.store.devices.get('door-1')).toBeUndefined();

    await page.fill('#f-relay_pin', '17');
    await page.click('#add-form button[type=submit]');
    await expect.poll(() => page.textContent('#add-form .form-msg'), { timeout: SEEN_MS }).toMatch(/Added door-1/);
    const doorCard = card(page, 'door-1');
    await expect.poll(() => doorCard.locator('[data-role=state]').textContent(), { timeout: SEEN_MS }).toBe('Closed');
    expect(await doorCard.getAttribute('data-health')).toBe('up');

    // The stub opens the door while the strike is locked: the card turns to forced, live over the event stream.
    door.open();
    await expect
      .poll(() => doorCard.locator('[data-role=state]').textContent(), { timeout: SEEN_MS })
      .toBe('Forced open');
    await expect.poll(() => page.locator('#events li[data-type="alarm"]').count(), { timeout: SEEN_MS }).toBe(1);
    door.close();
    await expect.poll(() => doorCard.locator('[data-role=state]').textContent(), { timeout: SEEN_MS }).toBe('Closed');

    // A bay sensor's uplink through ChirpStack: the bay card goes from waiting to occupied, then free.
    const bayCard = card(page, 'bay-1');
    await bay.uplink(1, nps405Status(true));
    await expect.poll(() => bayCard.locator('[data-role=state]').textContent(), { timeout: SEEN_MS }).toBe('Occupied');
    await bay.uplink(1, nps405Status(false, 12));
    await expect.poll(() => bayCard.locator('[data-role=state]').textContent(), { timeout: SEEN_MS }).toBe('Free');

    // Pass checks at the new lock: a validly signed but expired pass, then garbage; each denial names its reason.
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuePass(issuer.signing, { aud: 'door-1', exp: now - 3600, iat: now - 7200 }, 'pt1');
    await page.selectOption('#check-lock', 'door-1');
    await page.fill('#check-pass', expired.token);
    await page.click('#check-form button[type=submit]');
    const reason = page.locator('#check-result [data-role=reason]');
    await expect.poll(() => reason.textContent(), { timeout: SEEN_MS }).toBe('expired');
    expect(await page.textContent('#check-result [data-role=verdict]')).toBe('Denied');
    // Health and outbox follow the stream too (at most once a second).
    await expect.poll(() => page.textContent('#health .stat .v'), { timeout: SEEN_MS }).toBe('2/2');
    await expect.poll(() => page.textContent('#outbox tbody tr:first-child td'), { timeout: SEEN_MS }).not.toBe('0');
    await page.screenshot({ path: join(RESULTS, 'dashboard.png'), fullPage: true });

    await page.fill('#check-pass', 'PT1:not-a-pass');
    await page.click('#check-form button[type=submit]');
    await expect.poll(() => reason.textContent(), { timeout: SEEN_MS }).toBe('malformed');

    // A good pass would open, and checking it spent nothing: no decision event was recorded.
    const good = await issuePass(issuer.signing, { aud: 'door-1', exp: now + 3600, uses: 1 }, 'pt1');
    await page.fill('#check-pass', good.token);
    await page.click('#check-form button[type=submit]');
    await expect
      .poll(() => page.textContent('#check-result [data-role=verdict]'), { timeout: SEEN_MS })
      .toBe('Would open');
    expect(h.gateway.store.events.tail(50, { type: 'access.decision' })).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('fits a phone screen: one column, no sideways scrolling', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(h.admin.url);
    await page.fill('#token', h.admin.token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('article.card[data-device="bay-1"]', { timeout: SEEN_MS });
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-phone.png'), fullPage: false });
    await page.close();
  });
});
