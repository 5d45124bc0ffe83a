/** Bad input and failure: every case gets a clear error or a clean close, and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { bytesOf, signRequest, signedFetch, startTestServer, type TestServer } from '../src/server/testing/server.ts';
import { newRequestId } from './service.ts';

let server: TestServer;
let s3: S3Client;
const B = 'robust';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

/** Sends raw bytes on a socket and resolves with whatever came back when the server closed or answered. */
function raw(head: string, body: Buffer, opts: { destroyAfterWrite?: boolean } = {}): Promise<string> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname);
    let out = '';
    sock.on('data', (d) => {
      out += d.toString();
      if (/\r\n\r\n/.test(out) && /Content-Length: (\d+)/i.test(out)) {
        const len = Number(/Content-Length: (\d+)/i.exec(out)![1]);
        if (out.length >= out.indexOf('\r\n\r\n') + 4 + len) sock.end();
      }
    });
    sock.on('error', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.write(head);
    sock.write(body, () => {
      if (opts.destroyAfterWrite) {
        sock.destroy();
        resolve('');
      } else sock.end();
    });
    setTimeout(() => reject(new Error('no answer')), 10_000).unref();
  });
}

async function rawPut(key: string, declared: number, sent: Buffer, opts: { destroyAfterWrite?: boolean } = {}) {
  const s = await signRequest(server, { method: 'PUT', path: `/${B}/${key}`, payload: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(declared) } });
  const head = [`PUT /${B}/${key} HTTP/1.1`, ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return raw(head, sent, opts);
}

const exists = async (key: string) => {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
    return true;
  } catch {
    return false;
  }
};

describe('bad input', () => {
  it('a body shorter than its Content-Length stores nothing', async () => {
    await rawPut('short', 1000, Buffer.alloc(10, 1));
    expect(await exists('short')).toBe(false);
  });

  it('a client that disconnects mid-upload leaves no object and the server serving', async () => {
    await rawPut('cut', 10 * 1024 * 1024, randomBytes(3 * 1024 * 1024), { destroyAfterWrite: true });
    expect(await exists('cut')).toBe(false);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'after', Body: 'still up' }));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'after' }))).Body)).toString()).toBe('still up');
  });

  it('malformed XML gets MalformedXML', async () => {
    const r = await signedFetch(server, { method: 'POST', path: `/${B}`, query: { delete: '' }, body: '<Delete><Object><Key>a</Key></Obj' });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('<Code>MalformedXML</Code>');
  });

  it('an oversized XML body is refused', async () => {
    const big = '<Delete>' + '<Object><Key>k</Key></Object>'.repeat(120_000) + '</Delete>';
    const r = await signedFetch(server, { method: 'POST', path: `/${B}`, query: { delete: '' }, body: big });
    expect(r.status).toBe(400);
  });

  it('invalid header values are refused with an S3 error', async () => {
    const r = await signedFetch(server, { method: 'GET', path: `/${B}`, query: { 'list-type': '2', 'max-keys': 'lots' } });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('<Code>InvalidArgument</Code>');
  });
});

describe('Expect: 100-continue', () => {
  it('answers 100 Continue before the body is sent, then stores it', async () => {
    const body = Buffer.from('sent after 100 Continue');
    const s = await signRequest(server, {
      method: 'PUT',
      path: `/${B}/expect`,
      payload: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': String(body.length), expect: '100-continue' },
    });
    const url = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(url.port), url.hostname);
      let out = '';
      let sent = false;
      sock.on('data', (d) => {
        out += d.toString();
        if (!sent && out.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
          sent = true;
          sock.write(body);
        }
        if (/HTTP\/1\.1 200/.test(out)) {
          sock.end();
          resolve(out);
        }
      });
      sock.on('error', reject);
      sock.write([`PUT /${B}/expect HTTP/1.1`, ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n'));
      setTimeout(() => reject(new Error(`no answer: ${out}`)), 5_000).unref();
    });
    expect(answer.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'expect' }))).Body);
    expect(got.equals(body)).toBe(true);
  });
});

describe('concurrency', () => {
  it('two clients writing one key: one complete object wins, never a mix', async () => {
    const a = randomBytes(3 * 1024 * 1024);
    const b = randomBytes(3 * 1024 * 1024);
    await Promise.all([
      s3.send(new PutObjectCommand({ Bucket: B, Key: 'race', Body: a })),
      s3.send(new PutObjectCommand({ Bucket: B, Key: 'race', Body: b })),
    ]);
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'race' }))).Body);
    expect(got.equals(a) || got.equals(b)).toBe(true);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'race' }));
    expect(list.Contents?.length).toBe(1);
  });
});

describe('request headers as signed', () => {
  it('a header sent on several lines is signed as its values joined by ","; a header named like an Object property is a header', async () => {
    const s = await signRequest(server, {
      method: 'PUT',
      path: `/${B}/repeated-header`,
      payload: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': '2', 'x-amz-meta-twice': 'a,b', constructor: 'c' },
    });
    const lines = Object.entries(s.headers).flatMap(([k, v]) => (k.toLowerCase() === 'x-amz-meta-twice' ? [`${k}: a`, `${k}: b`] : [`${k}: ${v}`]));
    const answer = await raw([`PUT /${B}/repeated-header HTTP/1.1`, ...lines, '', ''].join('\r\n'), Buffer.from('hi'));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'repeated-header' }));
    expect(head.Metadata).toEqual({ twice: 'a,b' });
  });
});

describe('request ids', () => {
  it('are 16 hex digits, and unique across refills of their pool', () => {
    const ids = Array.from({ length: 2000 }, newRequestId);
    for (const id of ids) expect(id).toMatch(/^[0-9A-F]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
