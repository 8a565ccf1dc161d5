import pino from 'pino';

export type Logger = pino.Logger;

/** Structured logs. Secrets and keys are redacted wherever they appear under these paths. */
export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'secret', '*.secret', 'previous_secret', '*.previous_secret', 'key', '*.key',
        'headers.authorization', '*.headers.authorization', 'req.headers.authorization',
        'headers.cookie', '*.headers.cookie', 'headers["proxy-authorization"]', '*.headers["proxy-authorization"]', 'headers["x-api-key"]', '*.headers["x-api-key"]',
        // a webhook's custom headers as stored ({name, value} pairs): no value is ever logged
        'headers[*].value', '*.headers[*].value',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
