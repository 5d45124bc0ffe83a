/** Buckets: list, create, delete (after typing the bucket's name), and the bucket's settings. */
import { html } from 'hono/html';
import type { Hono } from 'hono';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { csrfField, notice, plural, page, when, type Html } from '../layout.ts';
import { objectPath, S3CallError } from '../s3-client.ts';
import { formValue, readForm } from './forms.ts';

const DONE: Record<string, string> = {
  created: 'Bucket created.',
  deleted: 'Bucket deleted.',
};

export const bucketHref = (bucket: string, prefix = ''): string =>
  `/console/buckets/${encodeURIComponent(bucket)}${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ''}`;

async function bucketsPage(c: ConsoleContext, msg?: { text: string; kind: 'ok' | 'error' }, status: 200 | 400 | 409 | 403 = 200) {
  const buckets = await c.get('s3').listBuckets();
  const v = c.get('viewer');
  const done = DONE[c.req.query('done') ?? ''];
  return c.html(
    page(
      'Buckets',
      v,
      'buckets',
      html`<h1>Buckets</h1>
${msg ? notice(msg.text, msg.kind) : notice(done)}
<section class="card">
  <form method="post" action="/console/buckets" class="inline">
    ${csrfField(v)}
    <label for="bucket-name">Bucket name</label>
    <input id="bucket-name" name="name" required minlength="3" maxlength="63" pattern="[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]" spellcheck="false" placeholder="my-bucket">
    <button type="submit">Create bucket</button>
  </form>
</section>
<table class="list">
  <caption>${plural(buckets.length, 'bucket')} of ${v.account}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>
  ${buckets.map(
    (b) => html`<tr>
    <td><a href="${bucketHref(b.name)}">${b.name}</a></td>
    <td>${when(b.created)}</td>
    <td class="actions"><a href="/console/buckets/${encodeURIComponent(b.name)}/settings">Settings</a> <a class="danger" href="/console/buckets/${encodeURIComponent(b.name)}/delete">Delete</a></td>
  </tr>`,
  )}
  ${buckets.length === 0 ? html`<tr><td colspan="3" class="muted">No buckets yet: create one above.</td></tr>` : ''}
  </tbody>
</table>`,
    ),
    status,
  );
}

function confirmDeletePage(c: ConsoleContext, bucket: string, error?: string): Html {
  const v = c.get('viewer');
  return page(
    `Delete ${bucket}`,
    v,
    'buckets',
    html`<h1>Delete bucket ${bucket}?</h1>
${notice(error, 'error')}
<section class="card narrow">
  <p>This deletes the bucket <strong>${bucket}</strong>. S3 only deletes an empty bucket: delete its objects first.</p>
  <form method="post" action="/console/buckets/${encodeURIComponent(bucket)}/delete" class="stack">
    ${csrfField(v)}
    <label for="confirm">Type the bucket name <strong>${bucket}</strong> to confirm</label>
    <input id="confirm" name="confirm" required spellcheck="false" autocomplete="off">
    <div class="row"><button type="submit" class="danger">Delete bucket ${bucket}</button> <a href="/console/buckets">Cancel</a></div>
  </form>
</section>`,
  );
}

/** The bucket settings S3 has; each is read through S3 and shown read-only, "not available" while datamesh lacks it. */
const SETTINGS: { name: string; query: string; summary: (xml: string) => string }[] = [
  {
    name: 'Versioning',
    query: 'versioning',
    summary: (x) => /<Status>([^<]*)<\/Status>/.exec(x)?.[1] ?? 'Never enabled (objects have one version)',
  },
  { name: 'CORS', query: 'cors', summary: (x) => `${(x.match(/<CORSRule>/g) ?? []).length} rules` },
  { name: 'Lifecycle', query: 'lifecycle', summary: (x) => `${(x.match(/<Rule>/g) ?? []).length} rules` },
  { name: 'Bucket policy', query: 'policy', summary: (x) => x.slice(0, 200) },
  { name: 'Object lock', query: 'object-lock', summary: (x) => /<ObjectLockEnabled>([^<]*)</.exec(x)?.[1] ?? 'Disabled' },
];

export function mountBuckets(app: Hono<ConsoleEnv>): void {
  app.get('/buckets', (c) => bucketsPage(c));

  app.post('/buckets', async (c) => {
    const name = formValue(await readForm(c), 'name').trim();
    try {
      await c.get('s3').createBucket(name);
    } catch (e) {
      if (e instanceof S3CallError && e.status < 500) return bucketsPage(c, { text: `Could not create bucket ${name}: ${e.message} (${e.code})`, kind: 'error' }, 400);
      throw e;
    }
    return c.redirect(`/console/buckets?done=created`, 303);
  });

  app.get('/buckets/:bucket/delete', async (c) => {
    const bucket = c.req.param('bucket');
    await c.get('s3').call({ method: 'HEAD', path: objectPath(bucket) }); // NoSuchBucket / AccessDenied before asking
    return c.html(confirmDeletePage(c, bucket));
  });

  app.post('/buckets/:bucket/delete', async (c) => {
    const bucket = c.req.param('bucket');
    const typed = formValue(await readForm(c), 'confirm').trim();
    if (typed !== bucket) return c.html(confirmDeletePage(c, bucket, `Type "${bucket}" exactly to delete it; nothing was deleted.`), 400);
    try {
      await c.get('s3').deleteBucket(bucket);
    } catch (e) {
      if (e instanceof S3CallError && e.status < 500) return c.html(confirmDeletePage(c, bucket, `${e.message} (${e.code})`), e.status as 409);
      throw e;
    }
    return c.redirect('/console/buckets?done=deleted', 303);
  });

  app.get('/buckets/:bucket/settings', async (c) => {
    const bucket = c.req.param('bucket');
    const s3 = c.get('s3');
    await s3.call({ method: 'HEAD', path: objectPath(bucket) });
    const rows = await Promise.all(
      SETTINGS.map(async (s) => {
        try {
          const r = await s3.call({ method: 'GET', path: objectPath(bucket), query: { [s.query]: '' } });
          return { name: s.name, value: s.summary(r.text), available: true };
        } catch (e) {
          if (!(e instanceof S3CallError)) throw e;
          if (e.code === 'NotImplemented') return { name: s.name, value: 'Not available in datamesh yet', available: false };
          return { name: s.name, value: `None (${e.code})`, available: true };
        }
      }),
    );
    return c.html(
      page(
        `${bucket} settings`,
        c.get('viewer'),
        'buckets',
        html`<nav aria-label="Breadcrumb" class="crumbs"><a href="/console/buckets">Buckets</a> / <a href="${bucketHref(bucket)}">${bucket}</a> / settings</nav>
<h1>Settings of ${bucket}</h1>
<p class="muted">Read-only: each setting is read through S3 as your key. Change them with an S3 client once datamesh supports them.</p>
<table class="list">
  <caption>Bucket settings</caption>
  <thead><tr><th scope="col">Setting</th><th scope="col">Value</th></tr></thead>
  <tbody>${rows.map((r) => html`<tr><th scope="row">${r.name}</th><td class="${r.available ? '' : 'muted'}">${r.value}</td></tr>`)}</tbody>
</table>`,
      ),
    );
  });
}
