/**
 * Anonymous POST forms cannot starve signed requests (issue 12): a form holds a slot of its own
 * pool (--max-unauthenticated-requests) until its policy signature is verified, so 64 connections
 * trickling form bytes leave every signed request served.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { bytesOf, startTestServer, type TestServer } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'trickle';
const sockets: Socket[] = [];
beforeAll(async () => {
  server = await startTestServer(['--max-concurrent-requests', '16', '--max-unauthenticated-requests', '32']);
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server.stop();
});

const inFlight = async (): Promise<number> => Number(/^datamesh_s3_requests_in_flight (\d+)/m.exec((await server.metrics.render()).body)?.[1]);

/** Opens a POST form upload that sends its first field's start and then nothing; resolves with the socket. */
function trickle(i: number, answered: () => void): Socket {
  const { port } = new URL(server.url);
  const s = connect(Number(port), '127.0.0.1');
  const boundary = `----trickle${i}`;
  s.write(
    `POST /${B} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nslow`,
  );
  let got = '';
  s.on('data', (d) => {
    if (got === '' && d.length > 0) answered();
    got += d.toString();
  });
  s.on('error', () => {});
  return s;
}

it('64 trickling anonymous POST forms leave signed requests unaffected', async () => {
  let answered = 0;
  for (let i = 0; i < 64; i++) sockets.push(trickle(i, () => answered++));
  // Every form either holds a slot (in flight) or was answered 503 SlowDown at once.
  while (answered + (await inFlight()) < 64) await new Promise((ok) => setImmediate(ok));
  for (let i = 0; i < 20; i++) {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: `k${i}`, Body: `v${i}` }));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: `k${i}` }))).Body)).toString()).toBe(`v${i}`);
  }
  expect(answered).toBe(32); // the rest of the anonymous forms got 503 SlowDown

  // A signed form still goes through while the anonymous pool is full: it leaves that pool once verified.
  for (const s of sockets.splice(0, 1)) s.destroy();
  while ((await inFlight()) > 31) await new Promise((ok) => setImmediate(ok));
  const form = await createPresignedPost(s3, { Bucket: B, Key: 'form', Expires: 600 });
  const fd = new FormData();
  for (const [k, v] of Object.entries(form.fields)) fd.append(k, v);
  fd.append('file', new Blob(['posted']), 'f.txt');
  expect((await fetch(form.url, { method: 'POST', body: fd })).status).toBe(204);
  expect(await inFlight()).toBe(31);
});
