import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { DomainError } from '../core/errors.ts';
import { clientErrorResponse, createRequestLimits, idleTimeout, serverOptions } from './limits.ts';
import { signedFetch, startTestServer, type TestServer } from './testing/server.ts';
import { metricValue, openUpload } from './testing/shutdown.ts';

async function* pieces(chunks: string[], hangAfter = false): AsyncIterable<Uint8Array> {
  for (const c of chunks) yield Buffer.from(c);
  if (hangAfter) await new Promise(() => {});
}

const collect = async (source: AsyncIterable<Uint8Array>) => {
  const out: string[] = [];
  for await (const c of source) out.push(Buffer.from(c).toString());
  return out;
};

describe('idleTimeout', () => {
  test('passes a body through and cuts one that stops sending', async () => {
    expect(await collect(idleTimeout(pieces(['a', 'b']), 50, () => new Error('idle')))).toEqual(['a', 'b']);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of idleTimeout(pieces(['a'], true), 30, () => new DomainError('RequestTimeout', 'idle'))) seen.push(Buffer.from(c).toString());
      })(),
    ).rejects.toMatchObject({ code: 'RequestTimeout' });
    expect(seen).toEqual(['a']);
  });

  test('the clock runs only while waiting for the client, not while the server works', async () => {
    const out: string[] = [];
    for await (const c of idleTimeout(pieces(['a', 'b', 'c']), 20, () => new Error('idle'))) {
      out.push(Buffer.from(c).toString());
      await sleep(60); // slow consumer (backpressure): must not count as an idle client
    }
    expect(out).toEqual(['a', 'b', 'c']);
  });
});

describe('createRequestLimits', () => {
  test('admits up to the maximum, then SlowDown with Retry-After 1; drained() waits for the last one', async () => {
    const rejected: string[] = [];
    const limits = createRequestLimits({ maxConcurrentRequests: 2, bodyIdleTimeout: 1000 }, { onReject: (l) => rejected.push(l) });
    const a = limits.enter();
    const b = limits.enter();
    expect(limits.inFlight).toBe(2);
    let err: unknown;
    try {
      limits.enter();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SlowDown', retryAfter: 1 });
    expect((err as Error).message).toContain('--max-concurrent-requests');
    expect(rejected).toEqual(['concurrency']);
    a();
    a(); // idempotent
    expect(limits.inFlight).toBe(1);
    const drained = limits.drained(5000);
    b();
    expect(await drained).toBe(true);
    const c = limits.enter();
    expect(await limits.drained(10)).toBe(false);
    c();
  });

  test('server options and the answers to requests Node refuses', () => {
    const o = serverOptions({ maxConcurrentRequests: 1, bodyIdleTimeout: 1, maxHeaderSize: 8192, headerTimeout: 60_000, idleTimeout: 0 });
    expect(o).toMatchObject({ maxHeaderSize: 8192, requestTimeout: 0, headersTimeout: 60_000, connectionsCheckingInterval: 15_000 });
    const big = clientErrorResponse('HPE_HEADER_OVERFLOW', { maxHeaderSize: 8192, headerTimeout: 1 });
    expect(big.limit).toBe('header_size');
    expect(big.raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(big.raw).toContain('<Code>RequestHeaderSectionTooLarge</Code>');
    expect(big.raw).toContain('8192 bytes');
    expect(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT', { maxHeaderSize: 1, headerTimeout: 500 }).raw).toContain('<Code>RequestTimeout</Code>');
    expect(clientErrorResponse('HPE_INVALID_METHOD', { maxHeaderSize: 1, headerTimeout: 1 }).raw).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  });
});

/** Sends raw bytes on a new connection; resolves with everything the server wrote before it closed. */
function rawExchange(url: string, text: string): Promise<{ reply: string; socket: Socket }> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('close', () => ok({ reply, socket }));
    socket.on('error', fail);
  });
}

const scrape = async (s: TestServer) => (await fetch(`${s.url}/_datamesh/metrics`)).text();

describe('limits on a real server', () => {
  test('over --max-concurrent-requests: 503 SlowDown with Retry-After: 1; the admitted requests finish', async () => {
    const s = await startTestServer(['--max-concurrent-requests', '2']);
    try {
      expect((await signedFetch(s, { method: 'PUT', path: '/limits' })).status).toBe(200);
      const uploads = await Promise.all([openUpload(s, '/limits/one', 6), openUpload(s, '/limits/two', 6)]);
      await Promise.all(uploads.map((u) => u.continued));
      // Both are parsed; wait until the server counts them in flight (each scrape is one round trip).
      for (let i = 0; i < 200 && metricValue(await scrape(s), 'datamesh_s3_requests_in_flight') !== 2; i++);
      const third = await signedFetch(s, { method: 'GET', path: '/limits', query: { 'list-type': '2' } });
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(await third.text()).toContain('<Code>SlowDown</Code>');
      for (const u of uploads) {
        await u.write(Buffer.from('hello!'));
        u.req.end();
      }
      expect((await Promise.all(uploads.map((u) => u.response))).map((r) => r.status)).toEqual([200, 200]);
      expect((await signedFetch(s, { method: 'GET', path: '/limits', query: { 'list-type': '2' } })).status).toBe(200);
      const m = await scrape(s);
      expect(metricValue(m, 'datamesh_limit_rejections_total', { limit: 'concurrency' })).toBe(1);
      expect(metricValue(m, 'datamesh_s3_requests_total', { operation: 'ListObjectsV2', status: '503' })).toBe(1);
    } finally {
      await s.stop();
    }
  });

  test('a stalled upload is cut by --body-idle-timeout with 400 RequestTimeout and leaves no object', async () => {
    const s = await startTestServer(['--body-idle-timeout', '200ms']);
    try {
      expect((await signedFetch(s, { method: 'PUT', path: '/stalled' })).status).toBe(200);
      const u = await openUpload(s, '/stalled/obj', 100_000);
      await u.continued;
      await u.write(Buffer.alloc(1000, 1));
      const socketClosed = new Promise<void>((ok) => u.req.socket!.once('close', () => ok()));
      const r = await u.response;
      expect(r.status).toBe(400);
      expect(r.body).toContain('<Code>RequestTimeout</Code>');
      expect(r.body).toContain('not read from or written to within the timeout period');
      expect(r.headers.connection).toBe('close');
      await socketClosed;
      expect((await signedFetch(s, { method: 'HEAD', path: '/stalled/obj' })).status).toBe(404);
      const m = await scrape(s);
      expect(metricValue(m, 'datamesh_limit_rejections_total', { limit: 'body_idle_timeout' })).toBe(1);
      expect(s.store.usage('root').objects).toBe(0);
      expect(metricValue(m, 'datamesh_s3_requests_in_flight')).toBe(0);
    } finally {
      await s.stop();
    }
  });

  test('headers over --max-header-size get 400 RequestHeaderSectionTooLarge; headers too slow get RequestTimeout', async () => {
    const s = await startTestServer(['--max-header-size', '8KiB', '--header-timeout', '150ms']);
    try {
      const big = await rawExchange(s.url, `GET /x HTTP/1.1\r\nHost: a\r\nx-big: ${'a'.repeat(10_000)}\r\n\r\n`);
      expect(big.reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(big.reply).toContain('<Code>RequestHeaderSectionTooLarge</Code>');
      // Just under the limit passes the parser and reaches S3 (anonymous: the bucket does not exist).
      const fine = await fetch(`${s.url}/x`, { headers: { 'x-big': 'a'.repeat(6000) } });
      expect(fine.status).toBe(404);

      const started = performance.now();
      const slow = await rawExchange(s.url, 'PUT /x/y HTTP/1.1\r\nHost: a\r\nx-one-byte-a-minute: ');
      expect(slow.reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(slow.reply).toContain('<Code>RequestTimeout</Code>');
      expect(performance.now() - started).toBeLessThan(5000);
      const m = await scrape(s);
      expect(metricValue(m, 'datamesh_limit_rejections_total', { limit: 'header_size' })).toBe(1);
      expect(metricValue(m, 'datamesh_limit_rejections_total', { limit: 'header_timeout' })).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
