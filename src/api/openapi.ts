import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { parseRfc3339, RFC3339_MESSAGE } from '../domain/time.js';
import { validationFailed } from '../errors.js';

extendZodWithOpenApi(z);

export { z };

/** An RFC 3339 date-time, parsed by the one parser of the API (src/domain/time.ts). */
export const rfc3339 = () =>
  z.string().max(64).refine((s) => parseRfc3339(s) !== null, RFC3339_MESSAGE).openapi({ type: 'string', format: 'date-time', example: '2026-11-24T10:00:00Z' });

/** `until`, when given with `since`, must come after it. */
export const untilAfterSince = (b: { since?: string; until?: string }) =>
  !b.since || !b.until || (parseRfc3339(b.until)?.getTime() ?? 0) > (parseRfc3339(b.since)?.getTime() ?? 0);
export const UNTIL_AFTER_SINCE = { path: ['until'], message: 'until must be after since' };

/** For query parameters (an OpenAPI query schema must stay a plain object, so the rule is checked here). */
export function checkRange(q: { since?: string; until?: string }): void {
  if (!untilAfterSince(q)) throw validationFailed('until must be after since', [{ path: 'until', message: UNTIL_AFTER_SINCE.message }]);
}
export const registry = new OpenAPIRegistry();

registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key: hrk_…' });

export const ErrorOut = registry.register(
  'Error',
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
    request_id: z.string(),
  }),
);

export function pagination() {
  return z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), has_more: z.boolean() });
}

let cached: object | null = null;
export function openApiDocument(): object {
  cached ??= new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'hookrelay API',
      version: '1.0.0',
      description: 'Durable webhook delivery: publish events, manage webhooks, read the delivery log.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
  });
  return cached;
}
