/**
 * End-to-end fuzz against the real server on a loopback port: random, mostly malformed requests
 * (raw bytes on a socket; signed requests carrying random XML bodies to the operations that parse
 * them; POST forms with random fields and boundaries; aws-chunked bodies that lie) never get a 500
 * and never take the server down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect } from 'node:net';
import { startTestServer, signRequest, signedFetch, type TestServer } from './testing/server.ts';
import { wireText } from '../../s3/testing/properties.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await signedFetch(server, { method: 'PUT', path: '/fuzz' });
  await signedFetch(server, { method: 'PUT', path: '/fuzz/k', body: 'hello' });
});
afterAll(() => server?.stop());

/** Sends raw bytes, half-closes, and returns the status code of the answer (0 when the server closed without one). */
function raw(bytes: Buffer): Promise<number> {
  const { port } = new URL(server.url);
  return new Promise((ok, no) => {
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    s.setTimeout(30_000, () => {
      s.destroy();
      no(new Error(`no answer within 30 s to ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}`));
    });
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined); // a reset after the answer
    s.on('close', () => ok(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0)));
    s.end(bytes);
  });
}

const request = (method: string, path: string, headers: Record<string, string>, body: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}content-length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
  ]);

const latin1 = (s: string) => s.replace(/[^\x20-\x7e]/g, '');
const xmlish = fc.oneof(
  wireText(200),
  fc.constantFrom(
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
    '<Delete><Object><Key>k</Key></Object><Quiet>maybe</Quiet></Delete>',
    '<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>',
    '<CreateBucketConfiguration><LocationConstraint>mars</LocationConstraint></CreateBucketConfiguration>',
    '<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;">]><Delete><Object><Key>&y;</Key></Object></Delete>',
    '<Delete>' + '<Object><Key>k</Key></Object>'.repeat(1001) + '</Delete>',
  ),
);

const signedCase = fc.record({
  method: fc.constantFrom('POST', 'PUT', 'GET', 'DELETE'),
  target: fc.constantFrom('/fuzz?delete', '/fuzz/k?tagging', '/fuzz/k?uploadId=nope', '/fuzz/new?uploads', '/fuzz', '/other-bucket', '/fuzz/k?partNumber=0&uploadId=x', '/fuzz/k?list-type=2&max-keys=-1', '/fuzz?list-type=2&max-keys=abc&continuation-token=%zz'),
  body: xmlish,
  headers: fc.dictionary(fc.constantFrom('content-md5', 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm', 'range', 'if-match', 'if-none-match', 'x-amz-copy-source', 'x-amz-tagging', 'x-amz-meta-a', 'content-encoding', 'x-amz-decoded-content-length', 'x-amz-trailer'), wireText(40).map(latin1), { maxKeys: 3 }),
});

const formCase = fc.record({
  boundary: fc.oneof(fc.constant('XyZ'), fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{0,75}$/)),
  declared: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[A-Za-z0-9-]{0,20}$/)),
  fields: fc.array(fc.tuple(fc.constantFrom('key', 'policy', 'x-amz-signature', 'x-amz-credential', 'x-amz-algorithm', 'x-amz-date', 'file', 'success_action_status', 'Content-Type', 'acl', 'x'), wireText(60).map(latin1)), { maxLength: 8 }),
  tail: fc.constantFrom('', '--', '--\r\n', 'junk'),
});

describe('end-to-end fuzz: malformed requests against a real server', () => {
  it('never answers 500 and stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }).map((b) => ({ kind: 'bytes' as const, b })),
          fc.tuple(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'X'), wireText(80).map(latin1), fc.dictionary(fc.stringMatching(/^[a-zA-Z-]{1,20}$/), wireText(60).map(latin1), { maxKeys: 5 }), fc.uint8Array({ maxLength: 200 })).map(([m, p, h, b]) => ({ kind: 'http' as const, m, p: '/' + p.replace(/ /g, '%20'), h, b: Buffer.from(b) })),
          signedCase.map((c) => ({ kind: 'signed' as const, c })),
          formCase.map((c) => ({ kind: 'form' as const, c })),
        ),
        async (t) => {
          let status: number;
          if (t.kind === 'bytes') status = await raw(Buffer.from(t.b));
          else if (t.kind === 'http') status = await raw(request(t.m, t.p, t.h, t.b));
          else if (t.kind === 'signed') {
            const [path, query] = t.c.target.split('?');
            const q = Object.fromEntries(new URLSearchParams(query ?? '').entries());
            const s = await signRequest(server, { method: t.c.method, path: path!, query: q, headers: t.c.headers, body: t.c.body, payload: 'UNSIGNED-PAYLOAD' });
            const url = new URL(s.url.replace(/%zz/, '%25zz'));
            const headers = Object.fromEntries(Object.entries(s.headers).filter(([k]) => !/^(host|content-length)$/i.test(k)));
            status = await raw(request(t.c.method, url.pathname + (query ? `?${query}` : ''), headers, Buffer.from(t.c.body)));
          } else {
            const { boundary, declared, fields, tail } = t.c;
            const body = Buffer.from(fields.map(([n, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${n}"${n === 'file' ? '; filename="f"' : ''}\r\n\r\n${v}\r\n`).join('') + `--${boundary}${tail}`, 'latin1');
            status = await raw(request('POST', '/fuzz', { 'content-type': `multipart/form-data; boundary=${declared ?? boundary}` }, body));
          }
          expect(status).not.toBe(500);
          expect(status === 0 || (status >= 200 && status < 600)).toBe(true);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150), interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false },
    );
    // still serving
    expect((await signedFetch(server, { method: 'GET', path: '/fuzz/k' })).status).toBe(200);
  }, 120_000);
});
