/**
 * The one logger interface every floor takes, and the process's logger: pino, JSON lines on stdout.
 * A module that needs only some levels takes Pick<Logger, ...>, so a test can hand it a small fake.
 */
import { pino, type Logger as PinoLogger } from 'pino';

/** The levels datamesh logs at, pino's way: the fields first, then the message. A pino logger is one. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Logs nothing: the default of modules whose caller passes no logger. */
export const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The process's logger (pino; it also takes a message alone). */
export function createLogger(level = 'info'): PinoLogger {
  return pino({
    level,
    base: { svc: 'datamesh' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['secret', 'secretKey', 'secretAccessKey', '*.secretAccessKey', '*.secret'], censor: '[redacted]' },
  });
}
