/**
 * An object's versions on its page, where the bucket has versioning (Enabled or Suspended): the
 * versions and delete markers of the key from ListObjectVersions, a page at a time, each version
 * with a download (a presigned GET of that versionId) and a delete of that version (DeleteObject
 * with versionId: permanent, as in S3). All of it goes through S3 as the signed-in key.
 */
import { html } from 'hono/html';
import type { Hono } from 'hono';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { bytes, csrfField, plural, when, type Html } from '../layout.ts';
import { S3CallError, type S3As, type VersionEntry } from '../s3-client.ts';
import { formValue, readForm } from './forms.ts';

/** Versions of one key shown per page. */
export const VERSIONS_PAGE = 50;

export const objectHref = (bucket: string, key: string, extra = ''): string =>
  `/console/buckets/${encodeURIComponent(bucket)}/object?key=${encodeURIComponent(key)}${extra}`;

export interface KeyVersions {
  /** The bucket's versioning status ('' when it was never enabled: nothing is listed then). */
  status: string;
  versions: VersionEntry[];
  /** The version-id-marker of the next page of this key's versions. */
  next?: string;
  /** Why the versions could not be read (S3 refused this key GetBucketVersioning or ListObjectVersions). */
  refused?: string;
}

/**
 * The versions of exactly `key` (ListObjectVersions lists by prefix: other keys that start with it
 * are skipped), starting after `after` (a version id of this key).
 */
export async function keyVersions(s3: S3As, bucket: string, key: string, after = ''): Promise<KeyVersions> {
  try {
    return await walkVersions(s3, bucket, key, after);
  } catch (e) {
    // A key may read the object yet not the bucket's versions (a bucket policy): the page still shows.
    if (e instanceof S3CallError && e.status === 403) return { status: '', versions: [], refused: `${e.message} (${e.code})` };
    throw e;
  }
}

async function walkVersions(s3: S3As, bucket: string, key: string, after: string): Promise<KeyVersions> {
  const status = await s3.versioning(bucket);
  if (!status) return { status, versions: [] };
  const versions: VersionEntry[] = [];
  let marker = after ? { key, versionId: after } : undefined;
  // Keys that extend this one sort after it, so the first key that differs ends the walk.
  for (;;) {
    const page = await s3.listVersions(bucket, { prefix: key, maxKeys: VERSIONS_PAGE + 1 - versions.length, ...(marker ? { keyMarker: marker.key, versionIdMarker: marker.versionId } : {}) });
    const mine = page.versions.filter((v) => v.key === key);
    versions.push(...mine);
    const ended = mine.length < page.versions.length || !page.next;
    if (versions.length > VERSIONS_PAGE) return { status, versions: versions.slice(0, VERSIONS_PAGE), next: versions[VERSIONS_PAGE - 1]!.versionId };
    if (ended) return { status, versions };
    marker = page.next;
  }
}

/** The versions card of the object page. */
export function versionsSection(c: ConsoleContext, bucket: string, key: string, kv: KeyVersions, after: string): Html {
  const v = c.get('viewer');
  if (kv.refused) return html`<section class="card"><h2>Versions</h2><p class="muted">S3 does not let this key read the versions: ${kv.refused}.</p></section>`;
  if (!kv.status) {
    return html`<section class="card"><h2>Versions</h2><p class="muted">Versioning is not enabled on ${bucket}: this object has one version. Enable it with PutBucketVersioning (e.g. <code>aws s3api put-bucket-versioning</code>) to keep older versions.</p></section>`;
  }
  const b = encodeURIComponent(bucket);
  const row = (e: VersionEntry) => html`<tr class="${e.deleteMarker ? 'delete-marker' : ''}">
    <td><code>${e.versionId}</code>${e.latest ? html` <span class="pill active">latest</span>` : ''}</td>
    <td>${e.deleteMarker ? html`<span class="pill suspended">delete marker</span>` : bytes(e.size)}</td>
    <td>${when(e.lastModified)}</td>
    <td class="muted small">${e.deleteMarker ? '' : e.etag}</td>
    <td class="actions">
      ${e.deleteMarker ? '' : html`<a href="/console/buckets/${b}/download?key=${encodeURIComponent(key)}&amp;versionId=${encodeURIComponent(e.versionId)}" aria-label="Download version ${e.versionId}" download>Download</a>`}
      <form method="post" action="/console/buckets/${b}/delete-version" class="inline" data-confirm="Delete ${e.deleteMarker ? 'the delete marker' : 'version'} ${e.versionId} of ${key} for good?">
        ${csrfField(v)}
        <input type="hidden" name="key" value="${key}"><input type="hidden" name="versionId" value="${e.versionId}">
        <button type="submit" class="danger secondary small" aria-label="Delete version ${e.versionId}">Delete</button>
      </form>
    </td>
  </tr>`;
  return html`<section class="card">
  <h2>Versions</h2>
  <p class="muted small">Versioning is ${kv.status.toLowerCase()} on ${bucket}. Deleting a version here removes that version for good; deleting a delete marker brings the version below it back.</p>
  <table class="list versions">
    <caption>${plural(kv.versions.length, 'version')}${after ? ' (continued)' : ''}</caption>
    <thead><tr><th scope="col">Version ID</th><th scope="col">Size</th><th scope="col">Last modified</th><th scope="col">ETag</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${kv.versions.map(row)}</tbody>
  </table>
  <div class="row pager">
    ${after ? html`<a href="${objectHref(bucket, key)}">Newest versions</a>` : ''}
    ${kv.next ? html`<a rel="next" href="${objectHref(bucket, key, `&versionsAfter=${encodeURIComponent(kv.next)}`)}">Older versions</a>` : ''}
  </div>
</section>`;
}

export function mountVersions(app: Hono<ConsoleEnv>): void {
  app.post('/buckets/:bucket/delete-version', async (c) => {
    const bucket = c.req.param('bucket');
    const form = await readForm(c);
    const key = formValue(form, 'key');
    const versionId = formValue(form, 'versionId');
    if (!versionId) throw new S3CallError(400, 'InvalidArgument', 'Pick the version to delete: the form sent no versionId, so nothing was deleted.');
    await c.get('s3').deleteVersion(bucket, key, versionId);
    return c.redirect(objectHref(bucket, key, `&done=version-deleted`), 303);
  });
}
