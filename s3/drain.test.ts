/** An early error response leaves a keep-alive connection usable: the rest of the body is discarded, within bounds. */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { bodyOf, discardRest, type DiscardLimits } from './drain.ts';

let server: Server | undefined;
/** The last PUT's request end ('end' emitted: its body was read to the last byte). */
let putEnded: Promise<unknown> | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  server = undefined;
});

/**
 * A server that reads one chunk of a PUT body, gives up (as a quota error does) and answers 403; GET
 * answers 200. `abandon`: the reader stops without its iterator's return(), as a form parser that
 * throws mid-body does.
 */
async function start(limits: DiscardLimits, drain = true, abandon = false): Promise<number> {
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'PUT') {
      if (abandon) await bodyOf(req)[Symbol.asyncIterator]().next();
      else for await (const _ of bodyOf(req)) break; // stop early: the iterator's return() runs
      putEnded = once(req, 'end');
      if (drain) discardRest(req, limits);
      res.writeHead(403, { 'Content-Length': '2' }).end('no');
    } else res.writeHead(200, { 'Content-Length': '2' }).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Sends a PUT of `size` bytes then a GET on the same connection; collects what comes back until the GET's answer, a close or `waitMs`. */
async function twoRequests(port: number, size: number, waitMs: number): Promise<{ text: string; closed: boolean }> {
  const sock: Socket = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let text = '';
  let closed = false;
  let answered!: () => void;
  const done = new Promise<void>((ok) => (answered = ok));
  sock.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    if (/\r\n\r\nok$/.test(text)) answered();
  });
  sock.on('error', () => {}); // a reset after the close
  sock.on('close', () => {
    closed = true;
    answered();
  });
  sock.write(`PUT /k HTTP/1.1\r\nhost: x\r\ncontent-length: ${size}\r\n\r\n`);
  for (let sent = 0; sent < size; sent += 64 * 1024) sock.write(Buffer.alloc(Math.min(64 * 1024, size - sent)));
  sock.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  const timer = setTimeout(answered, waitMs);
  await done;
  clearTimeout(timer);
  sock.destroy();
  return { text, closed };
}

describe('discardRest', () => {
  it('reads and drops the rest of a body refused early, so the next request on the connection is answered', async () => {
    const port = await start({});
    const r = await twoRequests(port, 4 * 1024 * 1024, 1000);
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(r.text).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
  });

  it('also when the reader abandoned its iterator without return() (its listener kept the request paused)', async () => {
    const port = await start({}, true, true);
    const r = await twoRequests(port, 4 * 1024 * 1024, 1000);
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(r.text).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
  });

  it('ends a small body that arrived whole but was left unread in the request (else its socket is closed later)', async () => {
    const port = await start({}, true, true);
    const r = await twoRequests(port, 100, 1000);
    expect(r.text).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    await putEnded; // on the old code it never came: the test timed out
  }, 3000);

  it('without it the connection is wedged (the failure it prevents)', async () => {
    const port = await start({}, false);
    const r = await twoRequests(port, 4 * 1024 * 1024, 300);
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(r.text).not.toMatch(/200 OK/);
  });

  it('closes the connection instead once more than maxBytes would have to be read', async () => {
    const port = await start({ maxBytes: 256 * 1024 });
    const r = await twoRequests(port, 4 * 1024 * 1024, 5000);
    expect(r.closed).toBe(true);
    expect(r.text).not.toMatch(/200 OK/);
  });
});
