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

/** The request body as an async iterable that leaves the request intact when the reader stops early. */
export function bodyOf(req: IncomingMessage): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array> };
}

/** Reads and drops what is left of the request body, closing the connection past the limits. */
export function discardRest(req: IncomingMessage, limits: DiscardLimits = {}): void {
  if (req.complete || req.destroyed) return;
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
  req.resume();
}
