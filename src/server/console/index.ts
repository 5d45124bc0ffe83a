/**
 * The web console at /console, served by the server itself: sign-in with an access key, then
 * buckets, objects, usage and (for admin accounts) users and the mesh.
 *
 * The console never touches storage or accounts behind the APIs' backs: it signs S3 requests to its
 * own server as the signed-in key (s3-client.ts) and admin requests to the admin API, so what a user
 * can do here is exactly what that key can do through S3 and the admin API. Its only direct reads
 * are the signed-in account's own quota and metering (the usage page) and whether it is an admin.
 *
 * Requests under /console that carry an S3 signature (an Authorization header or a presigned
 * query) are S3 requests to a bucket named "console" and go on to S3.
 */
import { readFileSync } from 'node:fs';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { AdminApiError, createAdminClient } from '../../../accounts/client.ts';
import type { ConsoleContext, ConsoleDeps, ConsoleEnv } from './context.ts';
import { CSP, notice, page, type Html, type Viewer } from './layout.ts';
import { s3As, S3CallError } from './s3-client.ts';
import { COOKIE, createSessions, readCookie, sameToken, sessionCookie, } from './session.ts';
import { signInPage } from './pages/sign-in.ts';
import { mountBuckets } from './pages/buckets.ts';
import { mountObjects } from './pages/objects.ts';
import { mountVersions } from './pages/versions.ts';
import { mountUploads } from './pages/uploads.ts';
import { mountUsage } from './pages/usage.ts';
import { mountAdmin } from './pages/admin.ts';
import { boundedBody, formValue, readForm } from './pages/forms.ts';

export type { ConsoleContext, ConsoleDeps, ConsoleEnv } from './context.ts';

const ASSETS: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** True for a request that S3 must answer (it is signed), not the console. */
export function isS3Request(method: string, headers: Headers, url: string): boolean {
  if (headers.has('authorization')) return true;
  const u = new URL(url);
  // PostObject (a browser form upload to a bucket named "console") is signed inside its form.
  if (method === 'POST' && /^\/console\/?$/.test(u.pathname) && (headers.get('content-type') ?? '').startsWith('multipart/form-data')) return true;
  const q = u.searchParams;
  return q.has('X-Amz-Signature') || q.has('Signature') || q.has('X-Amz-Credential');
}

export function createConsole(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const sessions = createSessions(deps.sessions);
  const assets = new Map(
    Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8') }]),
  );
  const app = new Hono<ConsoleEnv>().basePath('/console');

  app.use('*', async function securityHeaders(c, next) {
    await next();
    c.res.headers.set('Content-Security-Policy', CSP);
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('X-Frame-Options', 'DENY');
    c.res.headers.set('Referrer-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });

  // Every body is read here, within its limit, before sign-in, CSRF checks or pages parse it.
  app.use('*', boundedBody());

  app.onError((err, c) => {
    if (err instanceof S3CallError || err instanceof AdminApiError) {
      return c.html(page('Error', viewerOf(c), 'buckets', notice(`${err.message} (${err.code})`, 'error')), err.status >= 500 ? 502 : (err.status as 400));
    }
    deps.log?.warn({ err: String(err) }, 'console error');
    return c.html(page('Error', viewerOf(c), 'buckets', notice('Something went wrong in the console; see the server log.', 'error')), 500);
  });

  app.get('/assets/:name', (c) => {
    const a = assets.get(c.req.param('name'));
    if (!a) return c.text('no such asset', 404);
    return c.body(a.body, 200, { 'Content-Type': a.type, 'Cache-Control': 'no-cache' });
  });

  const originOf = (c: Context): string => {
    const url = new URL(c.req.url);
    const proto = c.req.header('x-forwarded-proto') === 'https' ? 'https:' : url.protocol;
    return `${proto}//${url.host}`;
  };
  const secure = (c: Context): boolean => originOf(c).startsWith('https:');

  /** A state-changing request must come from a console page: same origin, not cross-site. */
  const sameOrigin = (c: Context): boolean => {
    if (c.req.header('sec-fetch-site') === 'cross-site') return false;
    const expected = originOf(c);
    const origin = c.req.header('origin');
    if (origin !== undefined) return origin === expected;
    const referer = c.req.header('referer');
    if (!referer) return false;
    try {
      return new URL(referer).origin === expected;
    } catch {
      return false;
    }
  };
  const refused = (c: Context, why: string) =>
    c.html(page('Refused', undefined, 'sign-in', html403Text(why)), 403);

  const signIn = (c: Context, error?: string, status: 200 | 401 | 403 = 200) => c.html(signInPage(error), status);

  app.get('/sign-in', (c) => signIn(c));
  app.post('/sign-in', async (c) => {
    if (!sameOrigin(c)) return refused(c, 'Cross-site request refused: sign in from the console page itself.');
    const form = await readForm(c);
    const accessKey = formValue(form, 'accessKeyId').trim();
    const secret = formValue(form, 'secretAccessKey');
    if (!accessKey || !secret) return signIn(c, 'Enter both the access key ID and the secret access key.', 401);
    // The key signs one ListBuckets to this server: sign-in succeeds exactly when S3 accepts the key.
    try {
      await s3As(deps.self(), { accessKeyId: accessKey, secretAccessKey: secret }, deps.region).listBuckets();
    } catch (e) {
      if (e instanceof S3CallError && e.status < 500) {
        const why =
          e.code === 'InvalidAccessKeyId' || e.code === 'SignatureDoesNotMatch'
            ? 'The access key ID or the secret access key is wrong.'
            : `${e.message} (${e.code})`;
        return signIn(c, why, 401);
      }
      throw e;
    }
    const account = deps.accounts.lookup(accessKey)?.account;
    if (!account) return signIn(c, 'The access key ID or the secret access key is wrong.', 401);
    const s = sessions.create(account, accessKey);
    deps.log?.info({ account, accessKey }, 'console sign-in');
    c.header('Set-Cookie', sessionCookie(s.id, secure(c)));
    return c.redirect('/console/buckets', 303);
  });

  // Everything below needs a session.
  const requireSession: MiddlewareHandler<ConsoleEnv> = async function requireSession(c, next) {
    const changes = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (changes && !sameOrigin(c)) return refused(c, 'Cross-site request refused: the console only accepts forms from its own pages.');
    const s = sessions.get(readCookie(c.req.header('cookie'), COOKIE));
    const found = s ? deps.accounts.lookup(s.accessKey) : undefined;
    if (!s || !found || found.account !== s.account) {
      if (s) sessions.end(s.id);
      if (c.req.path.startsWith('/console/api/')) {
        return c.json({ error: { code: 'SessionExpired', message: 'Your console session ended; sign in again.' } }, 401);
      }
      return c.redirect('/console/sign-in', 303);
    }
    if (changes) {
      let token = c.req.header('x-csrf-token');
      if (token === undefined && (c.req.header('content-type') ?? '').match(/^(application\/x-www-form-urlencoded|multipart\/form-data)/)) {
        token = formValue(await readForm(c), 'csrf');
      }
      if (!sameToken(token, s.csrf)) return refused(c, 'The form is out of date or was not sent by the console (CSRF token missing or wrong); reload the page and try again.');
    }
    const creds = { accessKeyId: s.accessKey, secretAccessKey: found.secret };
    c.set('session', s);
    c.set('viewer', { account: s.account, admin: deps.accounts.isAdmin(s.account), csrf: s.csrf });
    c.set('s3', s3As(deps.self(), creds, deps.region));
    c.set('admin', createAdminClient({ endpoint: deps.self(), region: deps.region, ...creds }));
    c.set('origin', originOf(c));
    await next();
  };
  app.use('*', requireSession);

  app.get('/', (c) => c.redirect('/console/buckets', 303));
  app.post('/sign-out', (c) => {
    sessions.end(c.get('session').id);
    c.header('Set-Cookie', sessionCookie('', secure(c), 0));
    return c.redirect('/console/sign-in', 303);
  });

  mountBuckets(app);
  mountObjects(app);
  mountVersions(app);
  mountUploads(app);
  mountUsage(app, deps.accounts);
  mountAdmin(app, deps.log);
  app.all('*', (c) => c.html(page('Not found', c.get('viewer'), 'buckets', notice(`There is no console page at ${c.req.path}.`, 'error')), 404));
  return app;
}

/** Mounts the console on the server's app: /console and everything under it that is not S3. */
export function mountConsole(app: Hono<any>, deps: ConsoleDeps): void {
  const console = createConsole(deps);
  const handler: MiddlewareHandler = async (c, next) => {
    if (isS3Request(c.req.method, c.req.raw.headers, c.req.url)) return next();
    return console.fetch(c.req.raw, c.env);
  };
  app.all('/console', handler);
  app.all('/console/*', handler);
}

const viewerOf = (c: Context<ConsoleEnv>): Viewer | undefined => {
  try {
    return c.get('viewer');
  } catch {
    return undefined;
  }
};

const html403Text = (why: string): Html => notice(why, 'error');
