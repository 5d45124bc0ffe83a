/**
 * The console in headless Chromium (Debian's chromium, driven by playwright-core): a user's walk
 * through buckets and objects, an admin managing a user's quota, a non-admin kept out of the
 * admin pages, and a cross-site form post refused. With UPDATE_SCREENSHOTS=1 the same walk retakes
 * the screenshots of each page in ./screenshots (shown in the README); otherwise it writes nothing.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { ROOT, outcome, startTestServer, type TestServer } from '../testing/server.ts';
import { meshView } from '../testing/mesh.ts';
import { TestMesh, waitFor } from '../../../mesh/testing/cluster.ts';
import type { MeshNode } from '../../../mesh/node.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`console browser tests skipped: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);

let server: TestServer;
let browser: Browser;
/** A storage peer that holds the network secret: the server (a mesh gateway) lists it as pending. */
const mesh = new TestMesh();
let peer: MeshNode;
let files: string;

/** A fresh browser profile; waits are generous (the machine is shared), assertions never timed. */
async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  context.setDefaultTimeout(120_000);
  return context;
}

/** Screenshots are committed: only an explicit UPDATE_SCREENSHOTS=1 run rewrites them. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const shot = async (page: Page, name: string): Promise<void> => {
  if (UPDATE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};

async function signIn(page: Page, creds: { accessKeyId: string; secretAccessKey: string }) {
  await page.goto(`${server.url}/console`);
  await page.getByLabel('Access key ID').fill(creds.accessKeyId);
  await page.getByLabel('Secret access key').fill(creds.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/console/buckets');
}

const progressOf = (page: Page, name: string) => page.getByRole('progressbar', { name }).evaluate((el) => (el as unknown as { value: number }).value);

describe.skipIf(!hasChromium)('console in a browser', () => {
  beforeAll(async () => {
    peer = await mesh.start({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    const swarmKey = join(mesh.root, 'swarm.key');
    writeFileSync(swarmKey, mesh.swarmKey, { mode: 0o600 });
    server = await startTestServer(['--listen-mesh', '/ip4/127.0.0.1/tcp/0', '--bootstrap', peer.multiaddrs[0]!, '--swarm-key', swarmKey]);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    files = mkdtempSync(join(tmpdir(), 'console-files-'));
    if (UPDATE_SCREENSHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await mesh.close();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('signs in, creates a bucket, uploads, browses, downloads, shares, deletes and signs out', { timeout: 360_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());

    await page.goto(`${server.url}/console`);
    await page.waitForURL('**/console/sign-in');
    await shot(page, 'sign-in');
    // A wrong secret is refused with a message.
    await page.getByLabel('Access key ID').fill(ROOT.accessKeyId);
    await page.getByLabel('Secret access key').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/wrong/);

    await signIn(page, ROOT);
    const cookie = (await context.cookies()).find((c) => c.name === 'datamesh_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie.value).not.toContain(ROOT.secretAccessKey);

    await page.getByLabel('Bucket name').fill('holiday');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('link', { name: 'holiday', exact: true }).waitFor();
    await shot(page, 'buckets');
    await page.getByRole('link', { name: 'holiday', exact: true }).click();

    // Two files, one above the multipart threshold, each with its progress bar and a total.
    const small = Buffer.from('datamesh console notes\n');
    const big = Buffer.alloc(16 * 1024 * 1024 + 123); // just over the multipart threshold: two parts
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    // From files on disk: the browser reads them itself (a buffer would travel through the protocol).
    writeFileSync(join(files, 'notes.txt'), small);
    writeFileSync(join(files, 'big.bin'), big);
    await page.getByLabel('Upload files').setInputFiles([join(files, 'notes.txt'), join(files, 'big.bin')]);
    await page.locator('#uploads[data-state="finished"]').waitFor();
    expect(await progressOf(page, 'Upload of notes.txt')).toBe(100);
    expect(await progressOf(page, 'Upload of big.bin')).toBe(100);
    expect(await progressOf(page, 'Total upload progress')).toBe(100);
    expect(await page.locator('#upload-list').textContent()).not.toMatch(/failed/);

    // A folder: its files land under its name, browsed as a prefix.
    const folder = join(files, 'trip');
    mkdirSync(folder);
    writeFileSync(join(folder, 'day1.txt'), 'beach');
    writeFileSync(join(folder, 'day2.txt'), 'mountains');
    await page.getByLabel('Upload a folder').setInputFiles(folder);
    await page.locator('#uploads[data-state="finished"]').waitFor();
    await shot(page, 'upload');

    // A multipart upload cancelled while a part is on its way is aborted: no object, no open upload.
    const held: Route[] = [];
    await page.route((url) => url.searchParams.has('partNumber'), (route) => void held.push(route));
    const partSent = page.waitForRequest((r) => r.url().includes('partNumber='));
    writeFileSync(join(files, 'cancelled.bin'), Buffer.alloc(16 * 1024 * 1024 + 1));
    await page.getByLabel('Upload files').setInputFiles(join(files, 'cancelled.bin'));
    await partSent;
    await page.getByRole('button', { name: 'Cancel upload of cancelled.bin' }).click();
    await page.locator('#upload-list li[data-state="cancelled"]').waitFor();
    await page.unroute(() => true);
    for (const r of held) await r.abort().catch(() => {});
    const open = await server.client().send(new ListMultipartUploadsCommand({ Bucket: 'holiday' }));
    expect(open.Uploads ?? []).toEqual([]);
    expect(await outcome(server.client().send(new HeadObjectCommand({ Bucket: 'holiday', Key: 'cancelled.bin' })))).toBe('404 NotFound');

    await page.getByRole('link', { name: 'Show the new objects' }).click();

    const keys = async () => page.locator('table.objects tbody tr td:first-child').allTextContents();
    expect(await keys()).toEqual(['trip/', 'big.bin', 'notes.txt']);
    await shot(page, 'objects');
    await page.getByRole('link', { name: 'trip/' }).click();
    expect(await keys()).toEqual(['trip/day1.txt', 'trip/day2.txt']);
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'holiday' }).click();

    // Download, and compare.
    await page.getByRole('link', { name: 'big.bin' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('big.bin');
    expect(readFileSync((await download.path())!).equals(big)).toBe(true);

    // A share link, fetched without credentials.
    await page.getByLabel('Link expires in').selectOption({ label: '1 day' });
    await page.getByRole('button', { name: 'Create share link' }).click();
    const link = await page.getByLabel(/Share link/).inputValue();
    expect(link).toContain('X-Amz-Expires=86400');
    await shot(page, 'object');
    const shared = await fetch(link);
    expect(shared.status).toBe(200);
    expect(Buffer.from(await shared.arrayBuffer()).equals(big)).toBe(true);

    await page.goto(`${server.url}/console/buckets/holiday/settings`);
    // every setting is read through S3 as the signed-in key: a new bucket has none of them set
    const settings = await page.locator('table').textContent();
    expect(settings).toMatch(/Versioning\s*Never enabled/);
    expect(settings).toMatch(/Bucket policy\s*None \(NoSuchBucketPolicy\)/);
    expect(settings).toMatch(/CORS\s*None \(NoSuchCORSConfiguration\)/);
    await shot(page, 'settings');

    // Versions: with versioning on, a new upload keeps the old bytes as a version of the key.
    await server.client().send(new PutBucketVersioningCommand({ Bucket: 'holiday', VersioningConfiguration: { Status: 'Enabled' } }));
    const newer = (await server.client().send(new PutObjectCommand({ Bucket: 'holiday', Key: 'notes.txt', Body: 'revised notes\n' }))).VersionId!;
    await page.goto(`${server.url}/console/buckets/holiday/object?key=notes.txt`);
    const versions = page.locator('table.versions tbody tr');
    expect(await versions.count()).toBe(2);
    expect(await versions.first().textContent()).toContain(newer);
    const [older] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download version null' }).click()]);
    expect(readFileSync((await older.path())!).equals(small)).toBe(true);
    await shot(page, 'versions');

    // Delete one object from its page, two from the list.
    await page.goto(`${server.url}/console/buckets/holiday/object?key=notes.txt`);
    await page.getByRole('button', { name: 'Delete object' }).click(); // a delete marker now
    await page.waitForURL(/done=deleted/);
    expect(await keys()).toEqual(['trip/', 'big.bin']);
    await page.getByRole('link', { name: 'trip/' }).click();
    await page.getByLabel('Select trip/day1.txt').check();
    await page.getByLabel('Select trip/day2.txt').check();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await page.waitForURL(/done=deleted/);
    expect(await page.getByRole('status').textContent()).toMatch(/Deleted 2 objects/);

    // A bucket delete needs its name typed; S3 refuses a bucket that still has objects.
    await page.goto(`${server.url}/console/buckets/holiday/delete`);
    await page.getByLabel(/Type the bucket name/).fill('holidays');
    await page.getByRole('button', { name: 'Delete bucket holiday' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/nothing was deleted/);
    await page.getByLabel(/Type the bucket name/).fill('holiday');
    await page.getByRole('button', { name: 'Delete bucket holiday' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/BucketNotEmpty/);
    await shot(page, 'delete-bucket');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/console/sign-in');
    await page.goto(`${server.url}/console/buckets`);
    await page.waitForURL('**/console/sign-in');
    expect((await context.cookies()).find((c) => c.name === 'datamesh_console')).toBeUndefined();
    await context.close();
  });

  it('lets an admin create a user and set a quota that the user then sees; keeps the user out of admin pages', { timeout: 360_000 }, async () => {
    const admin = await (await newContext()).newPage();
    await signIn(admin, ROOT);
    await admin.getByRole('link', { name: 'Users', exact: true }).click();
    await admin.getByLabel('User name').fill('alice');
    await admin.getByRole('button', { name: 'Create user' }).click();
    const accessKeyId = (await admin.locator('#new-access-key').textContent())!;
    const secretAccessKey = (await admin.locator('#new-secret-key').textContent())!;
    expect(accessKeyId).toMatch(/\S{16,}/);
    await shot(admin, 'admin-users');
    await admin.getByRole('link', { name: 'alice' }).click();
    await admin.getByLabel('Max storage').fill('1GiB');
    await admin.getByLabel('Max buckets').fill('3');
    await admin.getByRole('button', { name: 'Save quotas' }).click();
    await admin.waitForURL(/done=1/);
    expect(await admin.locator('form.quota').textContent()).toMatch(/1 GiB \(account\)/);
    await shot(admin, 'admin-user');
    admin.on('dialog', (d) => void d.accept());
    await waitFor('the server to list the storage peer', async () => (await meshView(server)).peers.some((p) => p.id === peer.peerId), 60_000);
    await admin.getByRole('link', { name: 'Mesh', exact: true }).click();
    expect(await admin.locator('table').textContent()).toMatch(/this node/);
    const row = admin.locator(`tr[data-peer="${peer.peerId}"]`);
    const admission = () => row.locator('td').nth(3).textContent();
    expect(await admission()).toBe('pending');
    // Audits: "—" until the mesh view reports them for the peer.
    expect(await row.locator('td').nth(8).textContent()).toMatch(/^(—|\d+ passed, \d+ failed)$/);
    await admin.getByRole('button', { name: `Admit ${peer.peerId}` }).click();
    await admin.waitForURL(/done=admitted/);
    expect(await admission()).toBe('admitted');
    expect((await meshView(server)).peers.find((p) => p.id === peer.peerId)!.admission).toBe('admitted');
    await admin.getByRole('button', { name: 'Start scrub' }).click();
    await admin.waitForURL(/done=scrub/);
    expect(await admin.getByText(/Scrubbing: \d+ of \d+ segments|Last scrub/).count()).toBe(1);
    await shot(admin, 'mesh');
    await admin.getByRole('button', { name: `Evict ${peer.peerId}` }).click();
    await admin.waitForURL(/done=evicted/);
    expect(await admission()).toBe('evicted');
    expect((await meshView(server)).peers.find((p) => p.id === peer.peerId)!.admission).toBe('evicted');
    // A peer id the mesh does not know: the admin API's error, on the page.
    const bogus = await admin.evaluate(async (csrf) => {
      const r = await fetch('/console/admin/mesh/peers/not-a-peer/admit', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}` });
      return { status: r.status, text: await r.text() };
    }, (await admin.locator('meta[name="csrf-token"]').getAttribute('content'))!);
    expect(bogus.status).toBe(400);
    expect(bogus.text).toMatch(/role="alert"/);

    const context = await newContext();
    const user = await context.newPage();
    await signIn(user, { accessKeyId, secretAccessKey });
    expect(await user.getByRole('link', { name: 'Users', exact: true }).count()).toBe(0);
    await user.getByRole('link', { name: 'Usage', exact: true }).click();
    expect(await user.getByRole('img', { name: /^Storage: 0 B of 1 GiB/ }).count()).toBe(1);
    expect(await user.getByRole('img', { name: /^Buckets: 0 of 3/ }).count()).toBe(1);
    await shot(user, 'usage');

    // No admin page by direct URL, and no admin action even with the user's own CSRF token.
    for (const path of ['/console/admin', '/console/admin/users', '/console/admin/users/alice', '/console/admin/mesh']) {
      const r = await user.goto(`${server.url}${path}`);
      expect([path, r!.status()]).toEqual([path, 403]);
      expect(await user.getByRole('alert').textContent()).toMatch(/admin account/);
    }
    await shot(user, 'denied');
    const token = (await user.locator('meta[name="csrf-token"]').getAttribute('content'))!;
    const posted = await user.evaluate(async ({ csrf, peerId }) => {
      const out: number[] = [];
      for (const [path, body] of [
        ['/console/admin/users', 'name=mallory&role=admin'],
        ['/console/admin/users/alice/quota', 'maxStorage=none'],
        ['/console/admin/scrub', ''],
        [`/console/admin/mesh/peers/${peerId}/evict`, ''],
      ]) {
        const r = await fetch(path!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}&${body}` });
        out.push(r.status);
      }
      return out;
    }, { csrf: token, peerId: peer.peerId });
    expect(posted).toEqual([403, 403, 403, 403]);
    await admin.goto(`${server.url}/console/admin/users/alice`);
    expect(await admin.locator('form.quota').textContent()).toMatch(/1 GiB \(account\)/);
    expect(await admin.goto(`${server.url}/console/admin/users/mallory`).then((r) => r!.status())).toBe(404);
    await context.close();
  });

  it('refuses a cross-site form post', { timeout: 120_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await signIn(page, ROOT);
    // Another site (localhost is not 127.0.0.1) with a form that posts to the console.
    const port = new URL(server.url).port;
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form method="post" action="http://127.0.0.1:${port}/console/buckets"><input name="name" value="evil-bucket"><input name="csrf" value="x"><button>Win a prize</button></form>`,
      );
    });
    await new Promise<void>((ok) => evil.listen(0, 'localhost', ok));
    try {
      await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([page.waitForResponse(/\/console\/buckets/), page.getByRole('button', { name: 'Win a prize' }).click()]);
      expect(response.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toMatch(/Cross-site request refused/);
      expect(await outcome(server.client().send(new HeadBucketCommand({ Bucket: 'evil-bucket' })))).toBe('404 NotFound');
    } finally {
      await new Promise((ok) => evil.close(ok));
      await context.close();
    }
  });
});
