import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { ApiDeps } from './deps.js';

/**
 * The consumer portal: static files served by the API itself (no CDN, no build step). From the sources the
 * files are in portal/ at the repository root; compiled, scripts/build.js copies them to dist/portal/ — both are
 * `../../portal/` from this module. The page calls the public REST API with the session token, so it can do
 * exactly what an application key can.
 */
const DIR = new URL('../../portal/', import.meta.url);
const FILES: Record<string, string> = { 'portal.js': 'application/javascript; charset=utf-8', 'portal.css': 'text/css; charset=utf-8' };

export function portalRouter(deps: ApiDeps): Router {
  const router = new Router();
  const read = (name: string) => readFileSync(fileURLToPath(new URL(name, DIR)));
  const cache = new Map<string, Buffer>();
  const file = (name: string) => {
    let b = cache.get(name);
    if (!b) cache.set(name, (b = read(name)));
    return b;
  };
  const ancestors = deps.config.portal.frameAncestors;
  // A strict policy: scripts and styles from this origin only (no inline script, no eval), API calls to it only.
  const csp = [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:",
    "base-uri 'none'", "form-action 'none'", `frame-ancestors ${ancestors.length ? ["'self'", ...ancestors].join(' ') : "'self'"}`,
  ].join('; ');
  const secure = (ctx: { set(k: string, v: string): void }) => {
    ctx.set('content-security-policy', csp);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
  };

  router.get('/portal', (ctx) => {
    secure(ctx);
    ctx.set('cache-control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = file('index.html');
  });
  router.get('/portal/assets/:name', (ctx) => {
    const type = FILES[ctx.params.name];
    if (!type) {
      ctx.status = 404;
      return;
    }
    secure(ctx);
    ctx.set('cache-control', 'no-cache');
    ctx.type = type;
    ctx.body = file(ctx.params.name);
  });
  return router;
}
