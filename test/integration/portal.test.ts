import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { client, eventually, newOrg, stack, testStore, type Client } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { verifyWebhook } from '../../sdks/typescript/src/index.js';
import { createKey } from '../../src/services/orgs.js';
import { asId } from '../../src/domain/ids.js';
// @ts-expect-error plain JS module shared with npm start
import { startApi } from '../../scripts/stack.js';

// The consumer portal (issue 12) in a real browser: Debian's Chromium driven by playwright-core.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SHOTS = join(import.meta.dirname, '../../docs/img');

/** A page on its own origin that embeds the portal and records what the portal tells it. */
async function hostPage(portalUrl: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>host</title><h1>Producer dashboard</h1>
      <iframe id="portal" title="Webhooks" src="${portalUrl}" style="width:1100px;height:900px"></iframe>
      <script>window.received = []; addEventListener('message', (e) => window.received.push(e.data));</script>`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}

describe.runIf(!!process.env.CI)('consumer portal (CI)', () => {
  it('has Chromium to test with', () => expect(existsSync(CHROMIUM)).toBe(true));
});

describe.skipIf(!haveChromium)('consumer portal', () => {
  let browser: Browser;
  let admin: Client;
  let publisher: Client;
  let rcv: Receiver;
  let api: { url: string; stop(): Promise<void> };
  let allowed: { server: Server; url: string };
  let disallowed: { server: Server; url: string };
  let appA: { id: string };
  let foreignWebhook: { id: string };

  beforeAll(async () => {
    ({ admin, publisher } = await newOrg('portal'));
    rcv = await startReceiver();
    // Host pages first: the API allows the first one's origin to frame the portal.
    allowed = await hostPage('about:blank');
    disallowed = await hostPage('about:blank');
    const env = { ...stack().env, PORTAL_FRAME_ANCESTORS: allowed.url.replace(/\/$/, '') };
    api = await startApi({ env, logDir: join(stack().logDir, 'portal'), name: 'api-portal' });
    admin = client(admin.key, api.url);
    publisher = client(publisher.key, api.url);
    await admin.post('/v1/event-types', {
      name: 'invoice.paid', description: 'An invoice was paid in full.',
      schema: { type: 'object', properties: { invoice: { type: 'string' } }, examples: [{ invoice: 'INV-1' }] },
    });
    appA = (await admin.put('/v1/applications/uid/portal-a', { name: 'Acme' })).body;
    await admin.put('/v1/applications/uid/portal-b', { name: 'Globex' });
    foreignWebhook = (await admin.post('/v1/webhooks', { url: rcv.url, application: 'portal-b' })).body;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await rcv?.close();
    await api?.stop();
    allowed?.server.close();
    disallowed?.server.close();
  });

  const session = async (app = 'portal-a') => {
    const res = await publisher.post(`/v1/applications/${app}/portal-sessions`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; url: string; token: string; expires_at: string };
  };

  it('a customer manages an endpoint: create, test event, log, disable, enable with recover-since, rotate', async () => {
    const s = await session();
    expect(s.url).toMatch(/\/portal#token=hrk_/);
    expect(new URL(s.url).search).toBe('');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Answers the test provokes (the 400 of a bad URL) are logged by Chromium as failed loads: not page errors.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    const res = await page.goto(s.url);
    const csp = res!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    await page.getByText('No endpoints yet').waitFor();
    expect(page.url()).not.toContain('token='); // the token left the address bar
    await page.screenshot({ path: join(SHOTS, 'portal-empty-1280.png') });

    // Create, with a validation error shown next to its field first.
    await page.getByRole('link', { name: 'Add endpoint' }).first().click();
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await page.getByText('invoice.paid').click();
    await expect.poll(() => page.getByText('An invoice was paid in full.').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.locator('#err-url').waitFor();
    expect(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: join(SHOTS, 'portal-validation-1280.png') });
    await page.getByLabel('Endpoint URL').fill(rcv.url);
    await page.getByLabel('Max concurrent requests').fill('5');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Endpoint created').waitFor();
    const endpointId = decodeURIComponent(page.url().split('#/endpoints/')[1]);
    expect(endpointId).toMatch(/^wh_/);
    const created = (await admin.get(`/v1/webhooks/${endpointId}`)).body;
    expect(created).toMatchObject({ application_id: appA.id, events: ['invoice.paid'], url: rcv.url, max_in_flight: 5 });

    // The secret, hidden until revealed; a test event the receiver gets and verifies.
    expect(await page.locator('code.secret').textContent()).not.toContain('whsec_');
    expect(await page.getByRole('button', { name: 'Copy secret' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await expect.poll(() => page.locator('code.secret').textContent()).toMatch(/^whsec_/);
    const secret = (await page.locator('code.secret').textContent())!;
    // Revealed: the button hides it again, and a copy button puts it on the clipboard.
    expect(await page.getByRole('button', { name: 'Reveal secret' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.getByRole('button', { name: 'Hide secret' }).click();
    expect(await page.locator('code.secret').textContent()).not.toContain('whsec_');
    expect(await page.getByRole('button', { name: 'Copy secret' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await expect.poll(() => page.locator('code.secret').textContent()).toBe(secret);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('link', { name: 'View delivery' }).waitFor();
    await rcv.waitFor(1);
    const got = rcv.received[0];
    expect(verifyWebhook(got.body, got.headers as Record<string, string>, secret)).toMatchObject({ type: 'webhook.test' });
    await page.screenshot({ path: join(SHOTS, 'portal-endpoint-1280.png'), fullPage: true });

    // The attempt in the log.
    await page.getByRole('link', { name: 'View delivery' }).click();
    await page.getByRole('list', { name: 'Attempts' }).waitFor();
    expect(await page.getByRole('list', { name: 'Attempts' }).textContent()).toContain('HTTP 200');
    // A delivered delivery is done: sending it again is possible, but not the primary action, and asks first.
    expect(await page.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Send again' }).getAttribute('class')).toContain('secondary');
    await page.getByRole('button', { name: 'Send again' }).click();
    await page.getByRole('button', { name: 'Yes, send it again' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Send again' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'portal-delivery-1280.png'), fullPage: true });
    await page.goto(`${api.url}/portal#/deliveries?status=delivered`);
    await page.getByRole('list', { name: 'Deliveries' }).waitFor();
    expect(await page.getByRole('list', { name: 'Deliveries' }).textContent()).toContain('webhook.test');

    // Disable; an event published meanwhile is held; enable with recover-since releases it.
    await page.goto(`${api.url}/portal#/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Disable endpoint' }).click();
    await page.getByRole('button', { name: 'Enable endpoint' }).waitFor();
    expect((await admin.get(`/v1/webhooks/${endpointId}`)).body.status).toBe('disabled');
    await publisher.post('/v1/events', { application: 'portal-a', type: 'invoice.paid', data: { invoice: 'INV-7' } });
    const since = new Date(Date.now() - 3600_000);
    const local = new Date(since.getTime() - since.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Also re-deliver what failed or was skipped since (optional)').fill(local);
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByRole('button', { name: 'Disable endpoint' }).waitFor();
    await rcv.waitFor(2);
    expect(JSON.parse(rcv.received[1].body)).toMatchObject({ type: 'invoice.paid', data: { invoice: 'INV-7' } });

    // Rotate: a new secret, the 24 h overlap explained.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => page.locator('code.secret').textContent()).not.toBe('••••••••••••••••');
    expect(await page.locator('code.secret').textContent()).not.toBe(secret);
    expect(await page.locator('#banner').textContent()).toContain('24 hours');
    // The page's own later requests (statistics, a recovery's progress) leave that notice in place.
    // The statistics block on the page now is marked; the 7-day one that replaces it comes after its answer.
    await page.locator('.stats').first().evaluate((el) => el.setAttribute('data-old', '1'));
    await page.getByRole('button', { name: '7 days' }).click();
    await page.locator('.stats:not([data-old])').waitFor();
    expect(await page.locator('#banner').textContent()).toContain('24 hours');

    // The catalog; then the narrow screen.
    await page.getByRole('link', { name: 'Event catalog' }).click();
    await page.getByText('An invoice was paid in full.').waitFor();
    await page.setViewportSize({ width: 360, height: 780 });
    // Editing at 360 px: the bound shows, emptying it returns the endpoint to the default (null).
    await page.goto(`${api.url}/portal#/endpoints/${endpointId}/edit`);
    expect(await page.getByLabel('Max concurrent requests').inputValue()).toBe('5');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.getByLabel('Max concurrent requests').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    expect((await admin.get(`/v1/webhooks/${endpointId}`)).body.max_in_flight).toBeNull();
    await page.goto(`${api.url}/portal#/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(SHOTS, 'portal-endpoint-360.png'), fullPage: true });
    await page.goto(`${api.url}/portal#/endpoints`);
    await page.getByRole('list', { name: 'Endpoints' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'portal-endpoints-360.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  describe('at its edges (an organization of its own: 100+ event types and endpoints would crowd the other pages)', () => {
    const long = `inventory.${'warehouse_reservation_'.repeat(4)}confirmed`;
    let sessionUrl: string;
    let many: string[];
    let held: { id: string };
    let failing: { id: string };
    let failed: { id: string; status: string };
    beforeAll(async () => {
      const org = await newOrg('portal-edges');
      const adm = client(org.admin.key, api.url);
      const pub = client(org.publisher.key, api.url);
      expect((await adm.post('/v1/event-types', { name: long, description: 'A reservation was confirmed.' })).status).toBe(201);
      expect((await adm.post('/v1/event-types', { name: `${long}_v2`, deprecated: true, replaced_by: long })).status).toBe(201);
      const names = Array.from({ length: 101 }, (_, i) => `xedge.t${String(i).padStart(3, '0')}`);
      for (let i = 0; i < names.length; i += 10) {
        await Promise.all(names.slice(i, i + 10).map(async (name) => expect((await adm.post('/v1/event-types', { name })).status).toBe(201)));
      }
      expect((await adm.put('/v1/applications/uid/edges', { name: 'Edges' })).status).toBe(201);
      // 105 endpoints, and one disabled endpoint holding 55 deliveries (paused: recorded, no workflow runs).
      many = [];
      for (let i = 0; i < 105; i += 15) {
        const made = await Promise.all(Array.from({ length: Math.min(15, 105 - i) }, (_, j) =>
          adm.post('/v1/applications/edges/webhooks', { url: `${rcv.url}?n=${i + j}`, events: ['xedge.t001'] })));
        for (const r of made) expect(r.status, JSON.stringify(r.body)).toBe(201);
        many.push(...made.map((r) => r.body.id as string));
      }
      held = (await adm.post('/v1/applications/edges/webhooks', { url: `${rcv.url}?held`, events: ['xedge.t000'] })).body;
      expect((await adm.patch(`/v1/webhooks/${held.id}`, { disabled: true })).status).toBe(200);
      const batch = await pub.post('/v1/events/batch', { events: Array.from({ length: 55 }, (_, n) => ({ application: 'edges', type: 'xedge.t000', data: { n } })) });
      expect(batch.status, JSON.stringify(batch.body)).toBe(202);
      // A delivery that failed (a single attempt, answered 500).
      const broken = await startReceiver(() => ({ status: 500 }));
      failing = (await adm.post('/v1/applications/edges/webhooks', { url: broken.url, events: ['xedge.t002'], retry_schedule: [] })).body;
      failed = (await adm.post(`/v1/webhooks/${failing.id}/test`, {})).body;
      expect(failed.status).toBe('failed');
      await broken.close();
      sessionUrl = (await pub.post('/v1/applications/edges/portal-sessions', {})).body.url;
    }, 120_000);

    /** A 360 px page signed in to the edges application, and a check that nothing scrolls sideways. */
    async function narrow() {
      const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(sessionUrl);
      await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
      const noSideways = async (where: string) => expect(await page.evaluate(() => document.documentElement.scrollWidth), where).toBeLessThanOrEqual(360);
      return { page, errors, noSideways, close: () => context.close() };
    }
    /** Follows the "Next" links of a paged list, collecting its links' targets. */
    async function walk(page: Page, list: string, check: (p: number) => Promise<void>) {
      const hrefs = new Set<string>();
      for (let p = 1; p <= 10; p++) {
        await page.getByRole('list', { name: list }).waitFor();
        for (const href of await page.getByRole('list', { name: list }).locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) hrefs.add(href);
        await check(p);
        const next = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next' });
        if ((await next.count()) === 0) break;
        const where = page.getByRole('navigation', { name: 'Pages' }).locator('span');
        const before = await where.textContent();
        await next.click();
        await expect.poll(() => where.textContent(), { timeout: 30_000 }).not.toBe(before); // the next page is drawn
      }
      return hrefs;
    }

    it('every endpoint is reachable, page by page', async () => {
      const { page, errors, noSideways, close } = await narrow();
      const hrefs = await walk(page, 'Endpoints', (p) => noSideways(`endpoints page ${p}`));
      const seen = new Set([...hrefs].map((h) => decodeURIComponent(h.split('#/endpoints/')[1])));
      expect(seen.size).toBe(107);
      for (const id of [...many, held.id, failing.id]) expect(seen.has(id), id).toBe(true);
      expect(await page.getByRole('navigation', { name: 'Pages' }).textContent()).toContain('of 107');
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it('the catalog and the add-endpoint form list every event type, and long names and badges wrap at 360 px', async () => {
      const { page, errors, noSideways, close } = await narrow();
      await page.goto(`${api.url}/portal#/catalog`);
      await page.getByText(`deprecated: use ${long}`).waitFor();
      await noSideways('catalog');
      await page.screenshot({ path: join(SHOTS, 'portal-catalog-360.png') });
      expect(await page.getByText('xedge.t100', { exact: true }).count()).toBe(1);
      await page.goto(`${api.url}/portal#/endpoints/new`);
      await page.getByLabel('Endpoint URL').waitFor();
      await noSideways('add-endpoint form');
      expect(await page.locator(`input[name="events"][value="${long}_v2"]`).count()).toBe(1);
      expect(await page.locator('input[name="events"][value="xedge.t100"]').count()).toBe(1);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it('every delivery is reachable, page by page, with the filters kept', async () => {
      const { page, errors, noSideways, close } = await narrow();
      await page.goto(`${api.url}/portal#/deliveries`);
      await page.getByRole('list', { name: 'Deliveries' }).waitFor();
      expect(await page.locator('#f-endpoint option').count()).toBe(108); // every endpoint, and "All endpoints"
      const hrefs = await walk(page, 'Deliveries', (p) => noSideways(`deliveries page ${p}`));
      expect(hrefs.size).toBe(56); // 55 held, the failed one
      expect(hrefs.has(`#/deliveries/${failed.id}`)).toBe(true);
      await page.goto(`${api.url}/portal#/deliveries?status=paused`);
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next' }).click();
      await expect.poll(() => page.url()).toContain('page=2');
      expect(page.url()).toContain('status=paused');
      await expect.poll(() => page.getByRole('list', { name: 'Deliveries' }).locator('li').count()).toBe(5);
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it("the delivery chart's labels stay readable at 360 px", async () => {
      const { page, errors, noSideways, close } = await narrow();
      await page.goto(`${api.url}/portal#/endpoints/${held.id}`);
      await page.locator('.stats').waitFor();
      // At least 11 px tall as drawn (an SVG scaled to the width shrank its 10-unit text to about 5 px).
      const labels = await page.locator('svg.chart text, .chart-axis span').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
      expect(labels.length).toBeGreaterThanOrEqual(2);
      expect(Math.min(...labels)).toBeGreaterThanOrEqual(11);
      await noSideways('endpoint page');
      await page.screenshot({ path: join(SHOTS, 'portal-chart-360.png'), fullPage: true });
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it('a page left before its answers came is not drawn over the one shown now', async () => {
      const { page, errors, close } = await narrow();
      await page.goto(`${api.url}/portal#/catalog`);
      await page.getByText('xedge.t100', { exact: true }).waitFor(); // the catalog is in memory from now on
      // The delivery log reads every endpoint (two pages) and then the log; the catalog draws from memory at once.
      const logRead = page.waitForEvent('requestfinished', (r) => /\/deliveries\?/.test(r.url()));
      await page.evaluate(() => {
        location.hash = '#/deliveries';
        setTimeout(() => (location.hash = '#/catalog'), 0);
      });
      await logRead;
      await page.waitForLoadState('networkidle');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Event catalog');
      expect(errors).toEqual([]);
      await close();
    }, 60_000);

    it('a failed delivery offers "Retry now" as its primary action', async () => {
      const { page, errors, close } = await narrow();
      await page.goto(`${api.url}/portal#/deliveries/${failed.id}`);
      await page.getByRole('button', { name: 'Retry now' }).waitFor();
      expect((await page.getByRole('button', { name: 'Retry now' }).getAttribute('class')) ?? '').not.toContain('secondary');
      expect(errors).toEqual([]);
      await close();
    }, 60_000);
  });

  it("keyboard only reaches every action of an endpoint's page", async () => {
    const s = await session();
    const { body: wh } = await client(s.token, api.url).post('/v1/webhooks', { url: rcv.url, events: ['invoice.paid'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(s.url.replace('#token=', `#token=`));
    await page.getByRole('list', { name: 'Endpoints' }).waitFor();
    await page.goto(`${api.url}/portal#/endpoints/${wh.id}`);
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText?.trim() || (document.activeElement as HTMLInputElement | null)?.name || ''));
    }
    for (const action of ['Endpoints', 'Delivery log', 'Event catalog', 'Edit', 'Reveal secret', 'Rotate secret', 'Send test event', '24 hours', '7 days', 'Disable endpoint', 'since', 'Recover', 'Delete endpoint']) {
      expect([...reached], action).toContain(action);
    }
    // Delete needs a confirmation, also from the keyboard.
    await page.getByRole('button', { name: 'Delete endpoint' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Yes, delete' }).waitFor();
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).innerText)).toBe('Yes, delete');
    await page.keyboard.press('Enter');
    await page.getByText('No endpoints yet').or(page.getByRole('list', { name: 'Endpoints' })).first().waitFor();
    expect((await admin.get(`/v1/webhooks/${wh.id}`)).status).toBe(404);
    await page.close();
  }, 60_000);

  it("a session for application A cannot see or change application B's, in the page or by calling the API", async () => {
    const s = await session();
    const asA = client(s.token, api.url);
    expect((await asA.get(`/v1/webhooks/${foreignWebhook.id}`)).status).toBe(404);
    expect((await asA.patch(`/v1/webhooks/${foreignWebhook.id}`, { disabled: true })).status).toBe(404);
    expect((await asA.get('/v1/applications/portal-b')).status).toBe(404);
    expect((await asA.post('/v1/applications/portal-b/portal-sessions', {})).status).toBe(403);
    expect((await asA.post('/v1/events', { type: 'invoice.paid', data: {} })).status).toBe(403);
    expect((await asA.get('/v1/webhooks')).body.data.every((w: any) => w.application_id === appA.id)).toBe(true);
    const page = await browser.newPage();
    await page.goto(s.url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.goto(`${api.url}/portal#/endpoints/${foreignWebhook.id}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.content()).not.toContain(rcv.url.replace('/hook', ''));
    expect((await admin.get(`/v1/webhooks/${foreignWebhook.id}`)).body.status).toBe('active');
    await page.close();
  }, 60_000);

  it('an expired or ended session shows the message and no data', async () => {
    const store = await testStore();
    const orgId = (await admin.get('/v1/me')).body.organization.id;
    const soon = await createKey(store, asId('org', orgId), 'application', { applicationId: asId('app', appA.id), expiresAt: new Date(Date.now() + 1000), kind: 'portal_session' });
    await new Promise((r) => setTimeout(r, 1500));
    const page = await browser.newPage();
    await page.goto(`${api.url}/portal#token=${soon.key}`);
    await page.getByRole('heading', { name: 'Your session has ended' }).waitFor();
    expect(await page.getByText('Open the webhooks portal again').count()).toBe(1);
    expect(await page.getByRole('list').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'portal-expired-1280.png') });

    const s = await session();
    await page.goto(s.url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    expect((await publisher.del(`/v1/applications/portal-a/portal-sessions/${s.id}`)).status).toBe(204);
    await eventually(async () => {
      await page.reload();
      await page.getByRole('heading', { name: /Your session has ended|Endpoints/ }).first().waitFor();
      return (await page.getByRole('heading', { name: 'Your session has ended' }).count()) === 1;
    }, 20_000, 1000);
    await page.close();
  }, 60_000);

  it('renders inside an iframe of an allowed origin, refuses a disallowed one, and posts changes to the host', async () => {
    const s = await session();
    const { body: wh } = await client(s.token, api.url).post('/v1/webhooks', { url: rcv.url });
    const themed = `${api.url}/portal?theme=dark&primary=%23e11d48&header=0#token=${s.token}`;
    const good = await hostPage(themed);
    const bad = await hostPage(themed);
    try {
      // Only the first host page's origin is allowed: start a server on that origin's port? The API was told the
      // origin of `allowed`; serve the embedding page from it.
      allowed.server.removeAllListeners('request');
      allowed.server.on('request', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><title>host</title><iframe id="portal" title="Webhooks" src="${themed}" style="width:1100px;height:900px"></iframe>
          <script>window.received = []; addEventListener('message', (e) => window.received.push(e.data));</script>`);
      });
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      await page.goto(allowed.url);
      const frame = page.frameLocator('#portal');
      await frame.getByRole('heading', { name: 'Endpoints' }).waitFor();
      expect(await frame.locator('#top').isHidden()).toBe(true); // header=0
      await frame.getByRole('link', { name: rcv.url }).first().click();
      await frame.getByRole('button', { name: 'Disable endpoint' }).click();
      await frame.getByRole('button', { name: 'Enable endpoint' }).waitFor();
      const messages = await eventually(async () => {
        const m = (await page.evaluate(() => (window as unknown as { received: unknown[] }).received)) as { action: string }[];
        return m.some((x) => x.action === 'endpoint.disabled') && m;
      });
      expect(messages).toContainEqual(expect.objectContaining({ type: 'hookrelay.portal', action: 'endpoint.disabled' }));
      await page.screenshot({ path: join(SHOTS, 'portal-embedded-dark.png') });
      expect((await admin.get(`/v1/webhooks/${wh.id}`)).body.status).toBe('disabled');

      // A page on another origin: Chromium refuses to render the portal in its frame (CSP frame-ancestors).
      const other = await browser.newPage();
      await other.goto(disallowed.url.replace('about:blank', ''));
      disallowed.server.removeAllListeners('request');
      disallowed.server.on('request', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><iframe id="portal" src="${themed}"></iframe>`);
      });
      await other.goto(disallowed.url);
      await other.waitForTimeout(1500);
      const framed = other.frames().find((f) => f !== other.mainFrame());
      const rendered = framed ? await framed.locator('#main').count().catch(() => 0) : 0;
      expect(rendered).toBe(0);
      await other.close();
      await page.close();
    } finally {
      good.server.close();
      bad.server.close();
    }
  }, 60_000);

  it('shows a clear message when the API answers 503 (Temporal unreachable) or 429 (rate limited)', async () => {
    // Another API process of the same stack whose Temporal address is wrong and whose rate limit is tiny: real
    // answers, not stubs.
    const env = { ...stack().env, TEMPORAL_ADDRESS: '127.0.0.1:1', API_RATE_LIMIT_PER_S: '1', API_RATE_LIMIT_BURST: '8' };
    const degraded = await startApi({ env, logDir: join(stack().logDir, 'portal'), name: 'api-portal-degraded' });
    try {
      const s = await session();
      const { body: wh } = await client(s.token, api.url).post('/v1/webhooks', { url: rcv.url });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${degraded.url}/portal#token=${s.token}`);
      await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
      await page.goto(`${degraded.url}/portal#/endpoints/${wh.id}`);
      await page.getByRole('button', { name: 'Send test event' }).click();
      await expect.poll(() => page.locator('#banner').textContent(), { timeout: 15_000 }).toContain('temporarily unavailable');
      await page.screenshot({ path: join(SHOTS, 'portal-unavailable-1280.png') });
      for (let i = 0; i < 12 && !(await page.locator('#banner').textContent())?.includes('Too many requests'); i++) {
        await page.getByRole('button', { name: '7 days' }).click();
      }
      expect(await page.locator('#banner').textContent()).toContain('Too many requests');
      await page.close();
    } finally {
      await degraded.stop();
    }
  }, 60_000);

  it('shows a secret header masked, keeps its value when saved, and marks another header secret (issue 24, item 7)', async () => {
    await admin.put('/v1/applications/uid/portal-secret', { name: 'Initech' });
    const credential = 'Bearer hdrcred_0123456789abcdef0123';
    const created = await admin.post('/v1/webhooks', { url: rcv.url, application: 'portal-secret', headers: { Authorization: credential, 'X-Tenant': '9' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const s = await session('portal-secret');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.goto(`${api.url}/portal#/endpoints/${created.body.id}/edit`);
    const headers = page.getByLabel('Custom headers');
    await headers.waitFor();
    expect(await headers.inputValue()).toBe('Authorization: ••••••••\nX-Tenant: 9');
    expect(await page.content()).not.toContain('hdrcred_');
    await headers.fill('Authorization: ••••••••\nX-Tenant: 9\nX-Customer-Pin: 4242');
    await page.getByLabel('Secret headers').fill('X-Customer-Pin');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    const after = (await admin.get(`/v1/webhooks/${created.body.id}?include_secret=true`)).body;
    expect(after.headers).toEqual({ Authorization: credential, 'X-Tenant': '9', 'X-Customer-Pin': '4242' });
    expect(after.secret_headers.sort()).toEqual(['Authorization', 'X-Customer-Pin']);
    await page.goto(`${api.url}/portal#/endpoints/${created.body.id}/edit`);
    await expect.poll(() => headers.inputValue()).toBe('Authorization: ••••••••\nX-Tenant: 9\nX-Customer-Pin: ••••••••');
    expect(await page.getByLabel('Secret headers').inputValue()).toBe('Authorization, X-Customer-Pin');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
