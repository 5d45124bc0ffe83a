/** Structured logs (pino): JSON lines on stdout. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: { svc: 'datamesh' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['secret', 'secretKey', 'secretAccessKey', '*.secretAccessKey', '*.secret'], censor: '[redacted]' },
  });
}
