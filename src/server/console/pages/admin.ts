/**
 * Admin pages (admin accounts only): users with their keys and quotas, and the mesh with scrub.
 * Every action is a request to the admin API signed with the signed-in key, so the API's own
 * checks (an active admin account, validation, the root account's protections) decide.
 */
import { html } from 'hono/html';
import type { Hono, MiddlewareHandler } from 'hono';
import type { AccountInfo, KeyInfo, NewKey } from '../../../../accounts/accounts.ts';
import { AdminApiError } from '../../../../accounts/client.ts';
import { parseQuotaValue, QUOTA_FIELDS, SIZE_FIELDS, type QuotaField, type QuotaPatch } from '../../../../accounts/limits.ts';
import { formatCount } from '../../../core/sizes.ts';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { bar, bytes, csrfField, plural, notice, page, when, type Html, type Viewer } from '../layout.ts';
import type { MeshView } from '../../open-data.ts';
import type { ScrubState } from '../../ops-api.ts';
import { formValue, readForm } from './forms.ts';

export const QUOTA_LABELS: Record<QuotaField, string> = {
  maxStorage: 'Max storage',
  maxObjects: 'Max objects',
  maxBuckets: 'Max buckets',
  maxObjectSize: 'Max object size',
  maxRequestsPerMinute: 'Max requests per minute',
  maxMonthlyTransfer: 'Max monthly transfer',
  maxUploads: 'Max open multipart uploads',
};

const userHref = (name: string): string => `/console/admin/users/${encodeURIComponent(name)}`;
const showLimit = (f: QuotaField, limit: number | null): string =>
  limit === null ? 'no limit' : SIZE_FIELDS.has(f) ? bytes(limit) : formatCount(limit);
type Msg = { text: string; kind: 'ok' | 'error' } | undefined;
const failed = (e: unknown): Msg => {
  if (e instanceof AdminApiError && e.status < 500) return { text: `${e.message} (${e.code})`, kind: 'error' };
  throw e;
};

function newKeyBox(k: NewKey): Html {
  return html`<div class="card newkey" role="status">
  <h2>New access key for ${k.name}</h2>
  <p>Copy the secret now: it is shown only once.</p>
  <table class="props"><tbody>
    <tr><th scope="row">Access key ID</th><td><code id="new-access-key">${k.accessKeyId}</code></td></tr>
    <tr><th scope="row">Secret access key</th><td><code id="new-secret-key">${k.secretAccessKey}</code> <button type="button" class="secondary" data-copy="new-secret-key">Copy</button></td></tr>
  </tbody></table>
</div>`;
}

async function usersPage(c: ConsoleContext, msg?: Msg, created?: NewKey, status: 200 | 201 | 400 = 200) {
  const v = c.get('viewer');
  const { users } = await c.get('admin').request<{ users: AccountInfo[] }>('GET', '/users');
  return c.html(
    page(
      'Users',
      v,
      'users',
      html`<h1>Users</h1>
${msg ? notice(msg.text, msg.kind) : notice(c.req.query('done') === 'deleted' ? 'User deleted.' : undefined)}
${created ? newKeyBox(created) : ''}
<section class="card">
  <form method="post" action="/console/admin/users" class="inline">
    ${csrfField(v)}
    <label for="user-name">User name</label>
    <input id="user-name" name="name" required spellcheck="false" autocomplete="off">
    <label for="user-role">Role</label>
    <select id="user-role" name="role"><option value="user">user</option><option value="admin">admin</option></select>
    <button type="submit">Create user</button>
  </form>
</section>
<table class="list">
  <caption>${plural(users.length, 'account')}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="num">Keys</th><th scope="col" class="num">Storage</th><th scope="col" class="num">Objects</th><th scope="col" class="num">Buckets</th></tr></thead>
  <tbody>${users.map(
    (u) => html`<tr><td><a href="${userHref(u.name)}">${u.name}</a></td><td>${u.role}</td><td><span class="pill ${u.status}">${u.status}</span></td><td class="num">${u.accessKeys}</td>
      <td class="num">${bytes(u.usage.bytes)}${u.quota.maxStorage.limit === null ? '' : ` / ${bytes(u.quota.maxStorage.limit)}`}</td><td class="num">${formatCount(u.usage.objects)}</td><td class="num">${u.usage.buckets}</td></tr>`,
  )}</tbody>
</table>`,
    ),
    status,
  );
}

async function userPage(c: ConsoleContext, name: string, msg?: Msg, created?: NewKey, status: 200 | 201 | 400 = 200) {
  const v = c.get('viewer');
  const u = await c.get('admin').request<AccountInfo & { keys: KeyInfo[] }>('GET', `/users/${encodeURIComponent(name)}`);
  const action = (path: string) => `${userHref(u.name)}/${path}`;
  return c.html(
    page(
      u.name,
      v,
      'users',
      html`<nav aria-label="Breadcrumb" class="crumbs"><a href="/console/admin/users">Users</a> / ${u.name}</nav>
<div class="titlebar"><h1>${u.name}</h1><span class="pill ${u.status}">${u.status}</span><span class="muted">${u.role}, created ${when(u.created)}</span></div>
${msg ? notice(msg.text, msg.kind) : notice(c.req.query('done') ? 'Saved.' : undefined)}
${created ? newKeyBox(created) : ''}
<div class="grid2">
<section class="card">
  <h2>Usage</h2>
  ${bar('Storage', u.usage.bytes, u.quota.maxStorage.limit, bytes)}
  ${bar('Objects', u.usage.objects, u.quota.maxObjects.limit, formatCount)}
  ${bar('Buckets', u.usage.buckets, u.quota.maxBuckets.limit, formatCount)}
  <div class="row">
    <form method="post" action="${action(u.status === 'active' ? 'suspend' : 'resume')}">${csrfField(v)}<button type="submit" class="secondary">${u.status === 'active' ? 'Suspend user' : 'Resume user'}</button></form>
  </div>
</section>
<section class="card">
  <h2>Quotas</h2>
  <form method="post" action="${action('quota')}" class="quota">
    ${csrfField(v)}
    <p class="muted small">A size (10GiB) or count, <code>none</code> for no limit, <code>default</code> for the server's default; leave empty to keep.</p>
    ${QUOTA_FIELDS.map(
      (f) => html`<div class="quota-row"><label for="q-${f}">${QUOTA_LABELS[f]}</label><input id="q-${f}" name="${f}" spellcheck="false" autocomplete="off" placeholder="${showLimit(f, u.quota[f].limit)}"><span class="muted small">${showLimit(f, u.quota[f].limit)} (${u.quota[f].source})</span></div>`,
    )}
    <button type="submit">Save quotas</button>
  </form>
</section>
</div>
<section class="card">
  <h2>Access keys</h2>
  <table class="list"><caption>${plural(u.keys.length, 'key')}</caption>
    <thead><tr><th scope="col">Access key ID</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${u.keys.map(
      (k) => html`<tr><td><code>${k.accessKeyId}</code></td><td>${k.status}</td><td>${when(k.created)}</td><td>
        <form method="post" action="${action(`keys/${encodeURIComponent(k.accessKeyId)}/delete`)}" data-confirm="Delete access key ${k.accessKeyId}?">${csrfField(v)}<button type="submit" class="danger secondary">Delete key</button></form></td></tr>`,
    )}</tbody>
  </table>
  <form method="post" action="${action('keys')}">${csrfField(v)}<button type="submit" class="secondary">Create access key</button></form>
</section>
<section class="card">
  <h2>Delete user</h2>
  <form method="post" action="${action('delete')}" class="inline">
    ${csrfField(v)}
    <label for="confirm-user">Type <strong>${u.name}</strong> to confirm</label>
    <input id="confirm-user" name="confirm" required autocomplete="off" spellcheck="false">
    <button type="submit" class="danger">Delete user ${u.name}</button>
  </form>
  <p class="muted small">A user who owns buckets cannot be deleted: delete the buckets first.</p>
</section>`,
    ),
    status,
  );
}

/** Per-peer audit counts: rendered when the mesh view carries them (older servers do not). */
export type MeshPeer = MeshView['peers'][number] & { audits?: { passed: number; failed: number } };

const MESH_DONE: Record<string, string> = {
  admitted: 'Peer admitted: it takes shards from now on.',
  evicted: 'Peer evicted: it takes no new shards, and its shards are rebuilt on the other peers.',
  scrub: 'Scrub started.',
};

function peerActions(v: Viewer, p: MeshPeer): Html {
  if (p.self) return html``;
  const action = (what: 'admit' | 'evict', label: string, confirm?: string) =>
    html`<form method="post" action="/console/admin/mesh/peers/${encodeURIComponent(p.id)}/${what}" class="inline"${confirm ? html` data-confirm="${confirm}"` : ''}>${csrfField(v)}<button type="submit" class="${what === 'evict' ? 'danger secondary small' : 'small'}" aria-label="${label} ${p.id}">${label}</button></form>`;
  return html`${p.admission !== 'admitted' ? action('admit', 'Admit') : ''}
    ${p.admission !== 'evicted' ? action('evict', 'Evict', `Evict peer ${p.id}? It takes no more shards and its shards are rebuilt elsewhere.`) : ''}`;
}

const audits = (p: MeshPeer): Html =>
  p.audits ? html`${formatCount(p.audits.passed)} passed, <span class="${p.audits.failed ? 'bad' : ''}">${formatCount(p.audits.failed)} failed</span>` : html`—`;

/** One peer of the mesh table: state, admission, usage, health, audits and the admission actions. */
export const peerRow = (v: Viewer, p: MeshPeer): Html =>
  html`<tr data-peer="${p.id}"><td><code title="${p.id}">${p.id.slice(0, 16)}…</code>${p.self ? ' (this node)' : ''}</td><td><span class="pill ${p.state}">${p.state}</span></td><td>${p.since ? when(new Date(p.since).toISOString()) : ''}</td>
      <td><span class="pill admission-${p.admission}">${p.admission}</span></td>
      <td class="num">${p.shardsHeld === null ? '–' : formatCount(p.shardsHeld)}</td>
      <td>${p.bytes === null ? '–' : bytes(p.bytes)}${p.capacity === null ? ' (no limit)' : ` of ${bytes(p.capacity)}`}</td>
      <td class="num">${Math.round(p.health.score * 100)}% (${Math.round(p.health.successRate * 100)}% ok)</td><td class="num">${p.health.latencyMs === null ? '–' : `${Math.round(p.health.latencyMs)} ms`}</td>
      <td>${audits(p)}</td><td class="actions">${peerActions(v, p)}</td></tr>`;

async function meshPage(c: ConsoleContext, msg?: Msg, status: 200 | 400 = 200) {
  const admin = c.get('admin');
  const [mesh, scrub] = await Promise.all([admin.request<MeshView>('GET', '/mesh'), admin.request<ScrubState>('GET', '/scrub')]);
  const total = mesh.redundancy.full + mesh.redundancy.degraded + mesh.redundancy.lost;
  const pct = scrub.total > 0 ? Math.round((scrub.done / scrub.total) * 100) : 0;
  return c.html(
    page(
      'Mesh',
      c.get('viewer'),
      'mesh',
      html`${scrub.running ? html`<meta http-equiv="refresh" content="2">` : ''}
<h1>Mesh</h1>
${msg ? notice(msg.text, msg.kind) : notice(MESH_DONE[c.req.query('done') ?? ''])}
<div class="grid3">
  <section class="card stat"><h2>Redundancy</h2>
    <p><strong>${formatCount(mesh.redundancy.full)}</strong> healthy, <strong class="${mesh.redundancy.degraded ? 'warn' : ''}">${formatCount(mesh.redundancy.degraded)}</strong> degraded, <strong class="${mesh.redundancy.lost ? 'bad' : ''}">${formatCount(mesh.redundancy.lost)}</strong> lost segments</p>
    ${bar('Healthy segments', mesh.redundancy.full, total, formatCount, true)}
  </section>
  <section class="card stat"><h2>Repair queue</h2>
    <p><strong>${formatCount(mesh.repair.queue)}</strong> segments waiting${mesh.repair.running ? ', repairing now' : ''}</p>
    <p class="muted small">${mesh.repair.rounds} rounds, ${formatCount(mesh.repair.shardsRebuilt)} shards (${bytes(mesh.repair.bytesRebuilt)}) rebuilt${mesh.repair.lastRound ? `, last ${when(mesh.repair.lastRound)}` : ''}</p>
  </section>
  <section class="card stat"><h2>Scrub</h2>
    ${scrub.running
      ? html`<label for="scrub-progress">Scrubbing: ${scrub.done} of ${scrub.total} segments</label><progress id="scrub-progress" max="100" value="${pct}">${pct}%</progress>`
      : html`<p>${scrub.last ? `Last scrub ${when(scrub.last.finished)}: ${formatCount(scrub.last.segmentsChecked)} segments checked, ${scrub.last.shardsRebuilt} shards rebuilt, ${scrub.last.unrecoverable.length} unrecoverable.` : 'No scrub has run since the server started.'}</p>
    <form method="post" action="/console/admin/scrub">${csrfField(c.get('viewer'))}<button type="submit">Start scrub</button></form>`}
  </section>
</div>
<table class="list">
  <caption>${plural(mesh.peers.length, 'peer')}</caption>
  <thead><tr><th scope="col">Peer</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Admission</th><th scope="col" class="num">Shards</th><th scope="col">Capacity</th><th scope="col" class="num">Health</th><th scope="col" class="num">Latency</th><th scope="col">Audits</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>${mesh.peers.map((p) => peerRow(c.get('viewer'), p))}</tbody>
</table>`,
    ),
    status,
  );
}

export function mountAdmin(app: Hono<ConsoleEnv>, log?: { warn(obj: object, msg?: string): void }): void {
  const adminOnly: MiddlewareHandler<ConsoleEnv> = async function adminOnly(c, next) {
    if (!c.get('viewer').admin) {
      return c.html(
        page('Not allowed', c.get('viewer'), 'buckets', html`<h1>Not allowed</h1>${notice('Admin pages need an admin account; this key belongs to a user account.', 'error')}`),
        403,
      );
    }
    await next();
  };
  app.use('/admin/*', adminOnly);
  app.use('/admin', adminOnly);
  app.get('/admin', (c) => c.redirect('/console/admin/users', 303));

  app.get('/admin/users', (c) => usersPage(c));
  app.post('/admin/users', async (c) => {
    const form = await readForm(c);
    try {
      const key = await c.get('admin').request<NewKey>('POST', '/users', { body: { name: formValue(form, 'name').trim(), role: formValue(form, 'role') || 'user' } });
      return usersPage(c, { text: `User ${key.name} created.`, kind: 'ok' }, key, 201);
    } catch (e) {
      return usersPage(c, failed(e), undefined, 400);
    }
  });

  app.get('/admin/users/:name', (c) => userPage(c, c.req.param('name')));

  const userAction = (path: string, run: (c: ConsoleContext, name: string, form: Record<string, unknown>) => Promise<NewKey | 'gone' | void>) =>
    app.post(`/admin/users/:name/${path}`, async (c) => {
      const name = c.req.param('name');
      try {
        const r = await run(c, name, await readForm(c));
        if (r === 'gone') return c.redirect('/console/admin/users?done=deleted', 303);
        if (r) return userPage(c, name, { text: 'Access key created.', kind: 'ok' }, r, 201);
        return c.redirect(`${userHref(name)}?done=1`, 303);
      } catch (e) {
        return userPage(c, name, failed(e), undefined, 400);
      }
    });
  const enc = encodeURIComponent;
  userAction('suspend', async (c, name) => void (await c.get('admin').request('POST', `/users/${enc(name)}/suspend`)));
  userAction('resume', async (c, name) => void (await c.get('admin').request('POST', `/users/${enc(name)}/resume`)));
  userAction('keys', (c, name) => c.get('admin').request<NewKey>('POST', `/users/${enc(name)}/keys`));
  app.post('/admin/users/:name/keys/:key/delete', async (c) => {
    const name = c.req.param('name');
    try {
      await c.get('admin').request('DELETE', `/users/${enc(name)}/keys/${enc(c.req.param('key'))}`);
      return c.redirect(`${userHref(name)}?done=1`, 303);
    } catch (e) {
      return userPage(c, name, failed(e), undefined, 400);
    }
  });
  userAction('delete', async (c, name, form) => {
    if (formValue(form, 'confirm').trim() !== name) throw new AdminApiError(400, 'ConfirmationMismatch', `Type "${name}" exactly to delete the user; nothing was deleted.`);
    await c.get('admin').request('DELETE', `/users/${enc(name)}`);
    return 'gone';
  });
  userAction('quota', async (c, name, form) => {
    const patch: QuotaPatch = {};
    for (const f of QUOTA_FIELDS) {
      const text = formValue(form, f).trim();
      if (!text) continue;
      try {
        patch[f] = parseQuotaValue(f, text);
      } catch (e) {
        throw new AdminApiError(400, 'InvalidArgument', `${QUOTA_LABELS[f]}: ${(e as Error).message}`);
      }
    }
    if (Object.keys(patch).length > 0) await c.get('admin').request('PATCH', `/users/${enc(name)}/quota`, { body: patch });
  });

  app.get('/admin/mesh', (c) => meshPage(c));
  app.post('/admin/scrub', async (c) => {
    // The admin API starts the scrub as a job of the server (202) and answers at once; the mesh page
    // shows its progress and reloads itself while it runs.
    try {
      await c.get('admin').request('POST', '/scrub');
    } catch (e) {
      log?.warn({ err: String(e) }, 'console scrub failed');
      return meshPage(c, failed(e), 400);
    }
    return c.redirect('/console/admin/mesh?done=scrub', 303);
  });
  for (const action of ['admit', 'evict'] as const) {
    app.post(`/admin/mesh/peers/:peer/${action}`, async (c) => {
      try {
        await c.get('admin').request('POST', `/mesh/peers/${enc(c.req.param('peer'))}/${action}`);
      } catch (e) {
        return meshPage(c, failed(e), 400);
      }
      return c.redirect(`/console/admin/mesh?done=${action === 'admit' ? 'admitted' : 'evicted'}`, 303);
    });
  }
}
