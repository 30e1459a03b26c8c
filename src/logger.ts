import pino, { type Logger } from 'pino';

/** The service's logger: JSON lines, with request headers (signatures) and any secret or token field redacted. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: ['req.headers', 'headers', '*.secret', '*.token'] });
}
