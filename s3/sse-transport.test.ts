/**
 * SSE-C keys and the transport: over plain HTTP, a key from a non-loopback client is refused
 * (400 InvalidRequest) before anything is stored, unless --allow-insecure-sse-c; from loopback it
 * is accepted. The server listens on every interface and is reached through this host's own
 * non-loopback address (skipped when the host has none).
 */
import { networkInterfaces } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3Client as Client } from '@aws-sdk/client-s3';
import { outcome, ROOT, startTestServer, type TestServer } from '../src/server/testing/server.ts';
import { loadConfig } from '../src/server/config.ts';

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

let server: TestServer;
let loopback: Client;
let remote: Client;
const KEY = randomBytes(32);
const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(KEY).digest('base64') };

describe.skipIf(external === undefined)('SSE-C over plain HTTP', () => {
  beforeAll(async () => {
    server = await startTestServer(['--listen', '0.0.0.0:0']);
    loopback = server.client();
    remote = new S3Client({ endpoint: `http://${external}:${server.port}`, region: 'us-east-1', credentials: ROOT, forcePathStyle: true, maxAttempts: 1 });
    await loopback.send(new CreateBucketCommand({ Bucket: 'transport' }));
  });
  afterAll(() => server?.stop());

  it('refuses a key from a non-loopback client and stores nothing; accepts it from loopback', async () => {
    expect(await outcome(remote.send(new PutObjectCommand({ Bucket: 'transport', Key: 'k', Body: 'x', ...sse })))).toBe('400 InvalidRequest');
    expect(await outcome(loopback.send(new HeadObjectCommand({ Bucket: 'transport', Key: 'k' })))).toBe('404 NotFound');
    // the same client without a key is served: only keys need a secure path
    await remote.send(new PutObjectCommand({ Bucket: 'transport', Key: 'plain', Body: 'x' }));
    await loopback.send(new PutObjectCommand({ Bucket: 'transport', Key: 'k', Body: 'x', ...sse }));
  });

  it('--allow-insecure-sse-c is a setting (default off)', () => {
    expect(loadConfig([], {}).allowInsecureSseC).toBe(false);
    expect(loadConfig(['--allow-insecure-sse-c', 'true'], {}).allowInsecureSseC).toBe(true);
    expect(loadConfig([], { DATAMESH_ALLOW_INSECURE_SSE_C: 'true' }).allowInsecureSseC).toBe(true);
  });
});
