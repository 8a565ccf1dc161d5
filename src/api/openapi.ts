import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };
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
