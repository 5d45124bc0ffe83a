/**
 * The one logger interface every floor takes, and the process's logger: pino on stdout, JSON lines
 * by default on a pipe or a file (journald, Docker, Loki...), one readable line per record on a
 * terminal (`--log-format json|pretty` chooses).
 * A module that needs only some levels takes Pick<Logger, ...>, so a test can hand it a small fake.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** The levels datamesh logs at, pino's way: the fields first, then the message. A pino logger is one. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Logs nothing: the default of modules whose caller passes no logger. */
export const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export type LogFormat = 'json' | 'pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const HIDDEN = new Set(['level', 'time', 'msg', 'svc', 'pid', 'hostname']);

/** One record as a line: `12:00:01.234 INFO  message key=value ...` (errors add their stack below). */
export function prettyLine(record: Record<string, unknown>, colour = false): string {
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = Number(record.level);
  const name = (LEVELS[level] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && k !== 'err')
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  const err = record.err as { message?: string; stack?: string } | undefined;
  const tail = err ? `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}` : '';
  const head = colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name;
  return `${time} ${head} ${String(record.msg ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}${tail}\n`;
}

function prettyStream(out: NodeJS.WriteStream): DestinationStream {
  const colour = out.isTTY === true && !process.env.NO_COLOR;
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(prettyLine(record, colour));
    },
  };
}

/** The process's logger (pino; it also takes a message alone). */
export function createLogger(level = 'info', format?: LogFormat): PinoLogger {
  const chosen = format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const options = {
    level,
    base: { svc: 'datamesh' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['secret', 'secretKey', 'secretAccessKey', '*.secretAccessKey', '*.secret'], censor: '[redacted]' },
  };
  // JSON lines go out asynchronously (pino flushes what is pending when the process exits): a
  // synchronous write(2) per record put a system call into every request's path
  return chosen === 'pretty' ? pino(options, prettyStream(process.stdout)) : pino(options, pino.destination({ dest: 1, sync: false }));
}
