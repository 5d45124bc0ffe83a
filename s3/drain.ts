/**
 * The request body after an early error. A request refused while its body still flows (a quota or
 * size limit found mid-stream) leaves unread bytes on the connection: left there, they wedge a
 * keep-alive connection (the client's next request on it never gets an answer). So the handlers
 * read the body through an iterator that does not destroy the request when abandoned, and after
 * the error response the rest is read and discarded, as Node does for a body no one read; past a
 * bound of bytes or time the connection is closed instead.
 */
import type { IncomingMessage } from 'node:http';

export interface DiscardLimits {
  /** Bytes discarded before the connection is closed instead (default 64 MiB). */
  maxBytes?: number;
  /** Time given to the rest of the body before the connection is closed (default 10 s). */
  timeoutMs?: number;
}

/** The body iterators handed out for each request, so that discardRest() can release them. */
const readers = new WeakMap<IncomingMessage, Set<AsyncIterator<Uint8Array>>>();

/** The request body as an async iterable that leaves the request intact when the reader stops early. */
export function bodyOf(req: IncomingMessage): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = req.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array>;
      let set = readers.get(req);
      if (set === undefined) readers.set(req, (set = new Set()));
      set.add(it);
      return it;
    },
  };
}

/**
 * Ends the iterators a handler abandoned on an error. A reader that stops without return() (a
 * parser throwing mid-form never returns its source) keeps its 'readable' listener, and while one
 * is attached the request stays paused: resume() and 'data' listeners get no bytes, 'end' never
 * comes, and the connection is closed under the client's next keep-alive request.
 */
function releaseReaders(req: IncomingMessage): void {
  const set = readers.get(req);
  readers.delete(req);
  // A return() queued behind a pending next() runs once the next chunk arrives.
  for (const it of set ?? []) void Promise.resolve(it.return?.()).catch(() => {});
}

/** Reads and drops what is left of the request body, closing the connection past the limits. */
export function discardRest(req: IncomingMessage, limits: DiscardLimits = {}): void {
  // 'end' not emitted yet: bytes are still on the wire, or received (req.complete) but unread in
  // the request's buffer, where they hold back 'end' (@hono/node-server closes the socket 500 ms
  // after a response whose request never ended).
  if (req.readableEnded || req.destroyed) return;
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const socket = req.socket;
  let discarded = 0;
  const close = (): void => {
    cleanup();
    socket?.destroy();
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > maxBytes) close();
  };
  const timer = setTimeout(close, limits.timeoutMs ?? 10_000);
  timer.unref();
  const cleanup = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
  };
  req.on('data', onData);
  req.once('end', cleanup);
  req.once('close', cleanup);
  releaseReaders(req); // after the 'data' listener: with the last 'readable' listener gone, the request flows
  req.resume();
}
