import type Koa from 'koa';
import { ZodError } from 'zod';
import { AppError, UnavailableError } from '../../errors.js';
import { isMongoUnavailable, isTransientBusy } from '../../services/models.js';
import type { Logger } from '../../log.js';

export function zodDetails(err: ZodError) {
  return err.issues.map((i) => ({
    path: i.path.join('.') || '(body)',
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

/** The one place errors become responses: AppError/ZodError → the API's error shape; anything else → 500, logged. */
export function errorHandler(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    } catch (caught) {
      let err = caught;
      if (isMongoUnavailable(err) || isTransientBusy(err)) err = new UnavailableError('mongodb', err);
      let appErr: AppError;
      if (err instanceof AppError) appErr = err;
      else if (err instanceof ZodError) appErr = new AppError(400, 'validation_failed', 'the request is not valid', zodDetails(err));
      else {
        log.error({ err, request_id: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
        appErr = new AppError(500, 'internal', 'internal error; the request id identifies it in the logs');
      }
      if (appErr.status === 503) log.warn({ request_id: ctx.state.requestId, cause: String((appErr.cause as Error)?.message ?? '') }, appErr.message);
      ctx.status = appErr.status;
      for (const [k, v] of Object.entries(appErr.headers)) ctx.set(k, v);
      ctx.body = {
        error: { code: appErr.code, message: appErr.message, details: appErr.details },
        request_id: ctx.state.requestId,
      };
    }
  };
}
