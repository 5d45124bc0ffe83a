/**
 * The server's life cycle around the HTTP listener: a graceful stop (stop accepting, let the
 * requests in flight finish within a grace period, then cut the rest) and, at start, what an
 * earlier process left behind (interrupted multipart uploads).
 */
import type { Server, ServerResponse } from 'node:http';
import type { ObjectStore } from '../core/object-store.ts';

export interface GracefulServer {
  /** Responses not finished yet. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, lets the requests in flight finish for up to `graceMs`, then
   * closes every connection. Keep-alive connections close as soon as they are idle. Resolves when
   * the listener is closed, with the number of requests that were cut.
   */
  close(graceMs: number): Promise<{ cut: number }>;
}

/** Tracks the server's responses from now on so that close() knows what is in flight. */
export function trackServer(server: Server): GracefulServer {
  const open = new Set<ServerResponse>();
  let closing = false;
  let pass: Promise<{ cut: number }> | undefined;
  const closeIdleSoon = () => setImmediate(() => server.closeIdleConnections());

  server.on('request', (_req, res: ServerResponse) => {
    open.add(res);
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      open.delete(res);
      if (closing) closeIdleSoon();
    });
  });

  return {
    get inFlight() {
      return open.size;
    },
    close(graceMs) {
      pass ??= new Promise((ok) => {
        closing = true;
        // Responses still to start tell their client the connection ends with them.
        for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
        let cut = 0;
        const force = setTimeout(() => {
          cut = open.size;
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearTimeout(force);
          ok({ cut });
        });
        server.closeIdleConnections();
      });
      return pass;
    },
  };
}

/** Multipart uploads left open (by clients, or by an earlier process that stopped): they keep their parts until completed or aborted. */
export function countOpenUploads(store: Pick<ObjectStore, 'listBuckets' | 'listMultipartUploads'>): number {
  let count = 0;
  for (const bucket of store.listBuckets()) {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = store.listMultipartUploads(bucket.name, { maxUploads: 1000, keyMarker, uploadIdMarker });
      count += page.uploads.length;
      if (!page.isTruncated || page.nextKeyMarker === undefined) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }
  return count;
}
