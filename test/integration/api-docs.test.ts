import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stack } from '../support/api.js';

// docs/api.md is the contract in prose; /openapi.json is generated from the schemas that validate requests.
// Every operation the running API documents must be described on the page, so the two cannot drift apart.
describe('docs/api.md and /openapi.json', () => {
  it('names every operation of the generated OpenAPI document as "METHOD /path"', async () => {
    const doc = (await (await fetch(`${stack().apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const page = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.length).toBeGreaterThan(20);
    // "GET /v1/webhooks" must not be satisfied by "GET /v1/webhooks/{id}": the name ends at a non-path character.
    const missing = operations.filter((op) => !new RegExp(`${op.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/{}-])`).test(page));
    expect(missing, `operations missing from docs/api.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('describes max_in_flight on every webhook schema, waiting on deliveries, and the slow health status', async () => {
    type Schema = { type?: string | string[]; description?: string; enum?: string[]; properties?: Record<string, Schema>; required?: string[]; $ref?: string };
    const doc = (await (await fetch(`${stack().apiUrl}/openapi.json`)).json()) as { components: { schemas: Record<string, Schema> } };
    const schemas = doc.components.schemas;
    for (const name of ['WebhookIn', 'WebhookPut', 'WebhookPatch', 'Webhook']) {
      const field = schemas[name].properties?.max_in_flight;
      expect(field, name).toBeDefined();
      expect(field!.description, name).toMatch(/per worker process/);
    }
    expect(schemas.Webhook.required).toContain('max_in_flight');
    expect(schemas.Webhook.properties!.health_status.enum).toEqual(['healthy', 'slow', 'degraded', 'failing', 'unknown']);
    expect(schemas.WebhookStats.properties!.health_status.enum).toContain('slow');
    const waiting = schemas.Delivery.properties!.waiting;
    expect(waiting.description).toMatch(/endpoint_in_flight/);
    expect(waiting.properties!.reason.enum).toEqual(['endpoint_in_flight', 'application_share', 'worker_capacity', 'proxy_unavailable', 'resolver_unavailable']);
    // hookrelay's own path's failures are not the endpoint's (issue 24, item 2), and the contract says so.
    expect(schemas.Attempt.properties!.error.enum).toEqual(expect.arrayContaining(['connection_refused', 'proxy_unavailable', 'resolver_unavailable']));
    expect(schemas.Attempt.properties!.error.description).toMatch(/not the endpoint's/);
    expect(schemas.Delivery.required).toContain('waiting');
  });
});
