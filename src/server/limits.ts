/**
 * Request limits that keep one client from hurting the others: a cap on concurrent S3 requests
 * (503 SlowDown with Retry-After), an idle-body timeout (400 RequestTimeout when no body byte
 * arrives for too long), and the HTTP server's own limits: header size (400
 * RequestHeaderSectionTooLarge), the time to send the headers, and idle sockets.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError, Errors } from '../core/errors.ts';
import { toS3Error } from '../../s3/errors.ts';
import type { LimitName } from './metrics.ts';

export interface LimitSettings {
  /** S3 requests served at once; more get 503 SlowDown. */
  maxConcurrentRequests: number;
  /** A request body that sends no byte for this long is cut with 400 RequestTimeout. */
  bodyIdleTimeout: number;
  /** Bytes of request line plus headers. */
  maxHeaderSize: number;
  /** Time a client has to send the complete request headers. */
  headerTimeout: number;
  /** A connection with no bytes in either direction for this long is closed (0: never). */
  idleTimeout: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeout?: number;
}

export interface RequestLimits {
  /** Admits one S3 request and returns its release function; throws SlowDown (Retry-After: 1) when full. */
  enter(): () => void;
  /** The request body, cut with RequestTimeout when no byte arrives for `bodyIdleTimeout`. */
  guardBody(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  readonly inFlight: number;
  /** Resolves once no S3 request is in flight, or after `timeoutMs`; true when drained. */
  drained(timeoutMs: number): Promise<boolean>;
}

export const REQUEST_TIMEOUT_MESSAGE = 'Your socket connection to the server was not read from or written to within the timeout period.';

export function createRequestLimits(
  settings: Pick<LimitSettings, 'maxConcurrentRequests' | 'bodyIdleTimeout'>,
  hooks: { onReject?: (limit: LimitName) => void } = {},
): RequestLimits {
  let inFlight = 0;
  const waiters = new Set<() => void>();
  return {
    enter() {
      if (inFlight >= settings.maxConcurrentRequests) {
        hooks.onReject?.('concurrency');
        throw Errors.slowDown(
          `The server is serving its maximum of ${settings.maxConcurrentRequests} concurrent requests; retry in a second (the operator can raise --max-concurrent-requests).`,
          1,
        );
      }
      inFlight++;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        inFlight--;
        if (inFlight === 0) for (const w of [...waiters]) w();
      };
    },
    guardBody(source) {
      if (!(settings.bodyIdleTimeout > 0)) return source;
      return idleTimeout(source, settings.bodyIdleTimeout, () => {
        hooks.onReject?.('body_idle_timeout');
        return new DomainError(
          'RequestTimeout',
          `${REQUEST_TIMEOUT_MESSAGE} No body bytes arrived for ${settings.bodyIdleTimeout} ms (--body-idle-timeout).`,
        );
      });
    },
    get inFlight() {
      return inFlight;
    },
    drained(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise((ok) => {
        const done = (drained: boolean) => {
          clearTimeout(timer);
          waiters.delete(onIdle);
          ok(drained);
        };
        const onIdle = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        waiters.add(onIdle);
      });
    },
  };
}

/**
 * Yields `source`'s chunks; throws `makeError()` when the next chunk takes longer than `ms`. The
 * clock runs only while the consumer waits for the source, never while it processes a chunk
 * (backpressure from the server's own work never counts against the client).
 */
export async function* idleTimeout(source: AsyncIterable<Uint8Array>, ms: number, makeError: () => Error): AsyncIterable<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(makeError()), ms);
      });
      let r: IteratorResult<Uint8Array>;
      try {
        r = await Promise.race([it.next(), expired]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    // On a timeout the source's next() is still pending: its return() would wait for it, so
    // leave it (the connection is closed after the error response, which ends the source).
    if (!finished) void Promise.resolve(it.return?.()).catch(() => {});
  }
}

/** Options for http.createServer (through @hono/node-server's `serverOptions`). */
export function serverOptions(s: LimitSettings): ServerOptions {
  return {
    maxHeaderSize: s.maxHeaderSize,
    requestTimeout: 0, // uploads may take hours; slow bodies are cut by the idle-body timeout
    headersTimeout: s.headerTimeout,
    keepAliveTimeout: s.keepAliveTimeout ?? 65_000,
    // How often Node checks for expired header timeouts: a quarter of the timeout, 30 s at most.
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(s.headerTimeout / 4))),
  };
}

/** Applies the timeouts to a running server and answers malformed requests as S3 does. */
export function applyServerLimits(server: Server, s: LimitSettings, hooks: { onReject?: (limit: LimitName) => void } = {}): void {
  server.requestTimeout = 0;
  server.headersTimeout = s.headerTimeout;
  server.keepAliveTimeout = s.keepAliveTimeout ?? 65_000;
  server.timeout = s.idleTimeout;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorResponse(err.code, s);
    if (answer.limit) hooks.onReject?.(answer.limit);
    if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) socket.write(answer.raw);
    socket.destroy();
  });
}

/** The raw HTTP answer to a request Node's parser refused (what Node itself would send, in S3's words). */
export function clientErrorResponse(code: string | undefined, s: Pick<LimitSettings, 'maxHeaderSize' | 'headerTimeout'>): { raw: string; limit?: LimitName } {
  let domain: DomainError | undefined;
  let limit: LimitName | undefined;
  if (code === 'HPE_HEADER_OVERFLOW') {
    limit = 'header_size';
    domain = new DomainError(
      'RequestHeaderSectionTooLarge',
      `Your request header section exceeds the maximum allowed size of ${s.maxHeaderSize} bytes (--max-header-size); send fewer or shorter headers.`,
    );
  } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    limit = 'header_timeout';
    domain = new DomainError('RequestTimeout', `${REQUEST_TIMEOUT_MESSAGE} The request headers did not arrive within ${s.headerTimeout} ms (--header-timeout).`);
  }
  if (!domain) return { raw: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' };
  const e = toS3Error(domain, { resource: '', requestId: '' });
  const body = Buffer.from(e.body);
  return {
    limit,
    raw: `HTTP/1.1 ${e.status} Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\nServer: datamesh\r\n\r\n${e.body}`,
  };
}

