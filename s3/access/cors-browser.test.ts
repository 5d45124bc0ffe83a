/**
 * CORS in a real browser (Debian's chromium driven by playwright-core): a page served from another
 * origin (a second small HTTP server on another loopback port) uploads with a presigned PUT and reads
 * the object back through fetch, against a bucket whose CORS rule allows that origin; against a
 * bucket without a rule, the browser blocks the same requests (the preflight gets no CORS headers).
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bytesOf, outcome, startTestServer, type TestServer } from '../../src/server/testing/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`CORS browser tests skipped: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let site: Server;
let origin: string;

/** What the page does with the URLs it is given: a PUT, then a GET; errors come back as text. */
async function upload(page: Page, putUrl: string, getUrl: string, body: string): Promise<{ put?: number; etag?: string | null; got?: string; error?: string }> {
  return page.evaluate(
    async ({ putUrl, getUrl, body }) => {
      try {
        const put = await fetch(putUrl, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain' } });
        const got = await fetch(getUrl);
        return { put: put.status, etag: put.headers.get('ETag'), got: await got.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { putUrl, getUrl, body },
  );
}

describe.skipIf(!hasChromium)('CORS in a browser', () => {
  beforeAll(async () => {
    server = await startTestServer();
    s3 = server.client();
    site = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>another origin</title><p>an app on another origin</p>');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    // the same host, another port: another origin (so a request to the server is cross-origin)
    origin = `http://localhost:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM });
    await s3.send(new CreateBucketCommand({ Bucket: 'cors-open' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'cors-closed' }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'cors-open',
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }],
        },
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => site?.close(r));
    await server?.stop();
  });

  const urls = async (bucket: string, key: string) => ({
    put: await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }),
    get: await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }),
  });

  it('a page on an allowed origin uploads with a presigned PUT and reads the object back', { timeout: 180_000 }, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    await page.goto(origin);
    const u = await urls('cors-open', 'from-browser.txt');
    const r = await upload(page, u.put, u.get, 'uploaded by a browser');
    expect(r).toMatchObject({ put: 200, got: 'uploaded by a browser' });
    expect(r.etag).toMatch(/^"[0-9a-f]{32}"$/); // exposed by the rule's ExposeHeader
    const stored = await s3.send(new GetObjectCommand({ Bucket: 'cors-open', Key: 'from-browser.txt' }));
    expect((await bytesOf(stored.Body)).toString()).toBe('uploaded by a browser');
    await context.close();
  });

  it('the browser blocks the same requests to a bucket without a CORS rule, and nothing is stored', { timeout: 180_000 }, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    await page.goto(origin);
    const u = await urls('cors-closed', 'blocked.txt');
    const r = await upload(page, u.put, u.get, 'must not arrive');
    expect(r.error).toMatch(/Failed to fetch/);
    expect(messages.join('\n')).toMatch(/CORS/);
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: 'cors-closed', Key: 'blocked.txt' })))).toBe('404 NotFound');
    await context.close();
  });
});
