import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { stack } from '../support/api.js';

// GET /docs (issue 25, item 4): a real reference rendered from /openapi.json in the browser, by a renderer served
// from the API itself (nothing from another origin), under a strict Content-Security-Policy. Real Chromium.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '../../docs/img');

describe.runIf(!!process.env.CI)('API reference page (CI)', () => {
  it('has Chromium to test with', () => expect(existsSync(CHROMIUM)).toBe(true));
});

describe.skipIf(!existsSync(CHROMIUM))('API reference page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('is served with a strict policy, its renderer from this origin', async () => {
    const res = await fetch(`${stack().apiUrl}/docs`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<style>|\son\w+=/); // no inline script, style or handler
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(src[1], src[1]).toMatch(/^(\/|data:)/);
    const bundle = /src="(\/docs\/assets\/swagger-ui-bundle\.js[^"]*)"/.exec(html)?.[1];
    expect(bundle).toBeDefined();
    const js = await fetch(`${stack().apiUrl}${bundle}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${stack().apiUrl}/docs/assets/nope.js`)).status).toBe(404);
  });

  it('shows every operation with its parameters, request body fields, responses and examples; no request leaves the origin, no policy violation', async () => {
    const doc = (await (await fetch(`${stack().apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const origin = new URL(stack().apiUrl).origin;
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('data:') && elsewhere.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.addInitScript(() => {
      (window as unknown as { violations: string[] }).violations = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { violations: string[] }).violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${stack().apiUrl}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    // Every operation of the document is on the page.
    expect(await page.locator('.opblock').count()).toBe(operations);
    // One operation opened: its request body's fields with their descriptions, an example, its responses.
    const create = page.locator('#operations-webhooks-post_v1_webhooks');
    await create.locator('.opblock-summary').click();
    await create.locator('.opblock-body').waitFor();
    await create.getByText('Schema', { exact: true }).first().click();
    await expect.poll(() => create.textContent(), { timeout: 10_000 }).toContain('max_in_flight');
    const text = (await create.textContent())!;
    expect(text).toContain('per worker process'); // a field's description
    expect(text).toContain('201');
    await create.getByText('Example Value', { exact: true }).first().click();
    await expect.poll(() => create.textContent()).toContain('https://example.com/webhooks'); // the schema's example
    // A path parameter of another operation, and the schemas section with the statistics' definition.
    const stats = page.locator('#operations-webhooks-get_v1_webhooks__id__stats');
    await stats.locator('.opblock-summary').click();
    await stats.locator('.parameters').waitFor();
    expect(await stats.locator('.parameters').textContent()).toMatch(/id\s*\*\s*string\s*\(path\)[\s\S]*window/);
    await stats.getByText('Schema', { exact: true }).first().click();
    await expect.poll(() => stats.textContent(), { timeout: 10_000 }).toContain('finished attempts');
    await page.screenshot({ path: join(SHOTS, 'api-docs-1280.png') });
    // "Authorize" takes an API key.
    expect(await page.getByRole('button', { name: /Authorize/ }).count()).toBeGreaterThan(0);
    expect(elsewhere).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
