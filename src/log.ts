import pino from 'pino';

export type Logger = pino.Logger;

/** Structured logs. Secrets and keys are redacted wherever they appear under these paths. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['secret', '*.secret', 'headers.authorization', '*.headers.authorization', 'req.headers.authorization', 'key', '*.key'],
      censor: '[redacted]',
    },
  });
}
