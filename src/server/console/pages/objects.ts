/**
 * Objects: browse a bucket by prefix like folders, a page at a time; one object's properties,
 * metadata and tags; download, share links (presigned GET) and deletes.
 */
import { html } from 'hono/html';
import type { Hono } from 'hono';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { bytes, csrfField, plural, notice, page, when, type Html } from '../layout.ts';
import { S3CallError, type Listing, type ObjectHead } from '../s3-client.ts';
import { bucketHref } from './buckets.ts';
import { formValue, formValues, readForm } from './forms.ts';
import { keyVersions, objectHref, versionsSection } from './versions.ts';

/** Rows per page of the object browser. */
export const PAGE_SIZE = 200;
/** Share link expiries offered, in seconds (SigV4 allows at most 7 days). */
export const SHARE_EXPIRIES: { seconds: number; label: string }[] = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 86400, label: '1 day' },
  { seconds: 604800, label: '7 days' },
];

const baseName = (key: string): string => key.replace(/\/$/, '').split('/').at(-1) ?? key;

function crumbs(bucket: string, prefix: string): Html {
  const parts = prefix.split('/').filter(Boolean);
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href="/console/buckets">Buckets</a> / <a href="${bucketHref(bucket)}">${bucket}</a>${parts.map(
    (p, i) => html` / <a href="${bucketHref(bucket, parts.slice(0, i + 1).join('/') + '/')}">${p}</a>`,
  )}</nav>`;
}

/** The object browser's page body: a table whose first column is the key. */
export function objectTable(v: { csrf: string }, bucket: string, prefix: string, listing: Listing, after: string): Html {
  const n = listing.objects.length + listing.prefixes.length;
  return html`<form method="post" action="/console/buckets/${encodeURIComponent(bucket)}/delete-objects" data-confirm="Delete the selected objects? This cannot be undone.">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <input type="hidden" name="prefix" value="${prefix}">
  <table class="list objects">
    <caption>${n === 0 ? 'No objects' : n === 1 ? '1 entry' : `${n} entries`}${prefix ? ` under ${prefix}` : ''}${after ? ' (continued)' : ''}</caption>
    <thead><tr><th scope="col">Key</th><th scope="col" class="num">Size</th><th scope="col">Last modified</th><th scope="col"><span class="sr-only">Select</span></th></tr></thead>
    <tbody>
    ${listing.prefixes.map(
      (p) => html`<tr class="folder"><td><a href="${bucketHref(bucket, p)}">${p}</a></td><td class="num muted">folder</td><td></td><td></td></tr>`,
    )}
    ${listing.objects.map(
      (o) => html`<tr><td><a href="${objectHref(bucket, o.key)}">${o.key}</a></td><td class="num">${bytes(o.size)}</td><td>${when(o.lastModified)}</td><td><input type="checkbox" name="key" value="${o.key}" aria-label="Select ${o.key}"></td></tr>`,
    )}
    </tbody>
  </table>
  <div class="row pager">
    <button type="submit" class="danger secondary">Delete selected</button>
    ${after ? html`<a href="${bucketHref(bucket, prefix)}">First page</a>` : ''}
    ${listing.next
      ? html`<a rel="next" href="/console/buckets/${encodeURIComponent(bucket)}?prefix=${encodeURIComponent(prefix)}&amp;after=${encodeURIComponent(listing.next)}">Next page</a>`
      : ''}
  </div>
</form>`;
}

async function browsePage(
  c: ConsoleContext,
  bucket: string,
  at: { prefix: string; after: string },
  msg?: { text: string; kind: 'ok' | 'error' },
  status: 200 | 400 = 200,
) {
  const { prefix, after } = at;
  const v = c.get('viewer');
  const listing = await c.get('s3').list(bucket, { prefix, after, delimiter: '/', maxKeys: PAGE_SIZE });
  const done = c.req.query('done');
  return c.html(
    page(
      bucket,
      v,
      'buckets',
      html`${crumbs(bucket, prefix)}
<div class="titlebar"><h1>${prefix ? baseName(prefix) + '/' : bucket}</h1><a href="/console/buckets/${encodeURIComponent(bucket)}/settings">Bucket settings</a></div>
${msg ? notice(msg.text, msg.kind) : notice(done === 'deleted' ? `Deleted ${c.req.query('n') ?? ''} objects.` : undefined)}
<section class="card upload" data-bucket="${bucket}" data-prefix="${prefix}">
  <div class="dropzone" id="dropzone">
    <p>Drop files or folders here, or</p>
    <label class="button" for="upload-files">Upload files</label>
    <input id="upload-files" type="file" multiple class="visually-hidden-input">
    <label class="button secondary" for="upload-folder">Upload a folder</label>
    <input id="upload-folder" type="file" webkitdirectory multiple class="visually-hidden-input">
    <p class="muted small">Uploads go straight to S3 as your key (multipart above 16 MiB); they land under <code>${prefix || '/'}</code>.</p>
  </div>
  <div id="uploads" class="uploads" hidden>
    <div class="upload-total">
      <label for="upload-total">Total</label>
      <progress id="upload-total" max="100" value="0" aria-label="Total upload progress"></progress>
      <span id="upload-total-text" class="muted"></span>
      <button type="button" id="upload-cancel" class="secondary">Cancel all</button>
      <a id="upload-refresh" href="" hidden>Show the new objects</a>
    </div>
    <ul id="upload-list" aria-label="Uploads"></ul>
  </div>
</section>
${objectTable(v, bucket, prefix, listing, after)}`,
    ),
    status,
  );
}

/** HEAD of the current version; undefined when there is none (its newest version is a delete marker). */
const currentVersion = (c: ConsoleContext, bucket: string, key: string): Promise<ObjectHead | undefined> =>
  c
    .get('s3')
    .head(bucket, key)
    .catch((e: unknown) => {
      if (e instanceof S3CallError && e.status === 404) return undefined;
      throw e;
    });

const VERSION_DONE: Record<string, string> = { 'version-deleted': 'Version deleted.' };

async function objectPage(c: ConsoleContext, bucket: string, key: string, share?: { url: string; label: string }) {
  const s3 = c.get('s3');
  const after = c.req.query('versionsAfter') ?? '';
  const [head, versions] = await Promise.all([currentVersion(c, bucket, key), keyVersions(s3, bucket, key, after)]);
  const v = c.get('viewer');
  const parent = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  const done = notice(VERSION_DONE[c.req.query('done') ?? '']);
  if (!head) {
    if (versions.versions.length === 0 && !after) throw new S3CallError(404, 'NoSuchKey', `There is no object ${key} in ${bucket}.`);
    return c.html(
      page(
        key,
        v,
        'buckets',
        html`${crumbs(bucket, parent)}
<div class="titlebar"><h1>${baseName(key)}</h1></div>
${done}
${notice(`${key} is deleted: its newest version is a delete marker. Its older versions are below; delete the delete marker to bring the newest one back.`)}
${versionsSection(c, bucket, key, versions, after)}`,
      ),
    );
  }
  const tags = await s3.tags(bucket, key);
  const props: [string, string][] = [
    ['Key', key],
    ['Size', `${bytes(head.size)} (${head.size} bytes)`],
    ['ETag', head.etag],
    ['Last modified', head.lastModified],
    ['Content type', head.contentType],
  ];
  for (const h of ['content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires']) {
    if (head.headers[h]) props.push([h, head.headers[h]!]);
  }
  for (const [h, val] of Object.entries(head.headers)) if (h.startsWith('x-amz-checksum-')) props.push([h.slice(15).toUpperCase() + ' checksum', val]);
  return c.html(
    page(
      key,
      v,
      'buckets',
      html`${crumbs(bucket, parent)}
<div class="titlebar"><h1>${baseName(key)}</h1>
  <a class="button" href="/console/buckets/${encodeURIComponent(bucket)}/download?key=${encodeURIComponent(key)}" download>Download</a>
</div>
${done}
<div class="grid2">
<section class="card">
  <table class="props"><caption>Properties</caption><tbody>${props.map(([k, val]) => html`<tr><th scope="row">${k}</th><td>${val}</td></tr>`)}</tbody></table>
</section>
<section class="card">
  <table class="props"><caption>User metadata</caption><tbody>
    ${Object.entries(head.meta).map(([k, val]) => html`<tr><th scope="row">${k}</th><td>${val}</td></tr>`)}
    ${Object.keys(head.meta).length === 0 ? html`<tr><td class="muted">None</td></tr>` : ''}
  </tbody></table>
  <table class="props"><caption>Tags</caption><tbody>
    ${Object.entries(tags).map(([k, val]) => html`<tr><th scope="row">${k}</th><td>${val}</td></tr>`)}
    ${Object.keys(tags).length === 0 ? html`<tr><td class="muted">None</td></tr>` : ''}
  </tbody></table>
</section>
</div>
<section class="card">
  <h2>Share</h2>
  <form method="post" action="/console/buckets/${encodeURIComponent(bucket)}/share" class="inline">
    ${csrfField(v)}
    <input type="hidden" name="key" value="${key}">
    <label for="expires">Link expires in</label>
    <select id="expires" name="expires">${SHARE_EXPIRIES.map((e) => html`<option value="${e.seconds}">${e.label}</option>`)}</select>
    <button type="submit">Create share link</button>
  </form>
  ${share
    ? html`<div class="share" role="status">
    <label for="share-url">Share link (valid ${share.label}; anyone with it can download this object)</label>
    <div class="row"><input id="share-url" readonly value="${share.url}"><button type="button" class="secondary" data-copy="share-url">Copy link</button></div>
  </div>`
    : ''}
</section>
<section class="card">
  <h2>Delete</h2>
  <form method="post" action="/console/buckets/${encodeURIComponent(bucket)}/delete-objects" data-confirm="${versions.status === 'Enabled' ? `Delete ${key}? Versioning keeps its versions: this adds a delete marker.` : `Delete ${key}? This cannot be undone.`}">
    ${csrfField(v)}
    <input type="hidden" name="key" value="${key}">
    <input type="hidden" name="prefix" value="${parent}">
    <button type="submit" class="danger">Delete object</button>
  </form>
</section>
${versionsSection(c, bucket, key, versions, after)}`,
    ),
  );
}

export function mountObjects(app: Hono<ConsoleEnv>): void {
  app.get('/buckets/:bucket', (c) => browsePage(c, c.req.param('bucket'), { prefix: c.req.query('prefix') ?? '', after: c.req.query('after') ?? '' }));

  app.get('/buckets/:bucket/object', (c) => objectPage(c, c.req.param('bucket'), c.req.query('key') ?? ''));

  app.get('/buckets/:bucket/download', async (c) => {
    const bucket = c.req.param('bucket');
    const key = c.req.query('key') ?? '';
    // One version (from the versions list) or the current one.
    const versionId = c.req.query('versionId') || undefined;
    await c.get('s3').head(bucket, key, versionId); // fail here (NoSuchKey, AccessDenied) rather than on S3's page
    const url = await c.get('s3').presign(c.get('origin'), {
      method: 'GET',
      bucket,
      key,
      expiresIn: 300,
      query: {
        'response-content-disposition': `attachment; filename="${baseName(key).replace(/["\\\r\n]/g, '_')}"`,
        ...(versionId ? { versionId } : {}),
      },
    });
    return c.redirect(url, 303);
  });

  app.post('/buckets/:bucket/share', async (c) => {
    const bucket = c.req.param('bucket');
    const form = await readForm(c);
    const key = formValue(form, 'key');
    const choice = SHARE_EXPIRIES.find((e) => String(e.seconds) === formValue(form, 'expires')) ?? SHARE_EXPIRIES[0]!;
    await c.get('s3').head(bucket, key);
    const url = await c.get('s3').presign(c.get('origin'), { method: 'GET', bucket, key, expiresIn: choice.seconds });
    return objectPage(c, bucket, key, { url, label: choice.label });
  });

  app.post('/buckets/:bucket/delete-objects', async (c) => {
    const bucket = c.req.param('bucket');
    const form = await readForm(c);
    const keys = formValues(form, 'key');
    const prefix = formValue(form, 'prefix');
    if (keys.length === 0) return browsePageAt(c, bucket, prefix, { text: 'Select the objects to delete first.', kind: 'error' });
    const failed: { key: string; message: string }[] = [];
    for (let i = 0; i < keys.length; i += 1000) failed.push(...(await c.get('s3').deleteObjects(bucket, keys.slice(i, i + 1000))));
    if (failed.length > 0) {
      return browsePageAt(c, bucket, prefix, {
        text: `Could not delete ${failed.length} of ${keys.length}: ${failed.slice(0, 3).map((f) => `${f.key}: ${f.message}`).join('; ')}`,
        kind: 'error',
      });
    }
    return c.redirect(`${bucketHref(bucket, prefix)}${prefix ? '&' : '?'}done=deleted&n=${keys.length}`, 303);
  });
}

const browsePageAt = (c: ConsoleContext, bucket: string, prefix: string, msg: { text: string; kind: 'ok' | 'error' }) =>
  browsePage(c, bucket, { prefix, after: '' }, msg, 400);
