/**
 * The admin API, a Hono sub-app the server mounts at /_datamesh/admin/v1. JSON in and out.
 *
 * Every request is SigV4-signed (service s3) by the key of an active admin account, and signs its
 * body: x-amz-content-sha256 must be the SHA-256 hex of the exact body bytes (the empty string's
 * hash for requests without a body). Anything else gets 403 AccessDenied. Errors are
 * `{ "error": { "code", "message" } }` with the admin status of the error table (src/core/errors.ts).
 *
 *   GET    /users                          list accounts
 *   POST   /users                          {name, role?, quota?} -> 201 {name, accessKeyId, secretAccessKey}
 *   GET    /users/:name                    account, quota, usage now, keys
 *   DELETE /users/:name                    204; 409 AccountHasBuckets while it owns buckets
 *   POST   /users/:name/suspend | /resume  the account
 *   GET    /users/:name/keys               {keys}
 *   POST   /users/:name/keys               201 {name, accessKeyId, secretAccessKey}
 *   DELETE /users/:name/keys/:accessKey    204
 *   GET    /users/:name/quota              {name, quota}
 *   PATCH  /users/:name/quota              partial: a number sets, null lifts, "default" restores
 *   GET    /usage?month=YYYY-MM            {month, usage: [...]} for every account
 *   GET    /users/:name/usage?month=       the same for one account
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { DomainError, ERRORS, Errors, isDomainError } from '../core/errors.ts';
import type { Accounts } from '../../accounts/accounts.ts';
import { validatePatch, type Role } from '../../accounts/limits.ts';

/** What the admin API hands to authenticate: the request as signed. Header names lower-case. */
export interface AdminAuthRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string>;
}

/** The part of s3/auth's AuthResult the admin API uses. */
export interface AdminAuthResult {
  account: string;
  accessKey: string;
  /** Presigned URLs are refused: an admin request must sign its body. */
  presigned?: boolean;
}

export interface AdminApiOptions {
  /** SigV4 verification (s3/auth's authenticate with the accounts' lookup and the server's region). */
  authenticate: (req: AdminAuthRequest) => AdminAuthResult | Promise<AdminAuthResult>;
  /** Largest request body accepted (default 64 KiB). */
  maxBodyBytes?: number;
  log?: { error(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  /** More admin routes (operations: inspect, scrub, mesh), behind the same authentication. */
  extend?: (app: Hono<AdminEnv>) => void;
}

/** The context of an admin route: the admin account's name and the parsed JSON body. */
export type AdminEnv = { Variables: { admin: string; json: unknown } };
type Env = AdminEnv;

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export function createAdminApi(accounts: Accounts, opts: AdminApiOptions): Hono<Env> {
  const app = new Hono<Env>();
  const maxBody = opts.maxBodyBytes ?? 64 * 1024;

  app.onError((err, c) => errorResponse(c, err, opts.log));

  app.use('*', async function adminAuth(c, next) {
    const body = await readBounded(c.req.raw.body, maxBody);
    const url = new URL(c.req.url);
    const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
    const raw = incoming && incoming.startsWith('/') ? incoming : url.pathname + url.search;
    const q = raw.indexOf('?');
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    const who = await opts.authenticate({
      method: c.req.method,
      rawPath: q < 0 ? raw : raw.slice(0, q),
      rawQuery: q < 0 ? '' : raw.slice(q + 1),
      headers,
    });
    if (who.presigned) {
      throw Errors.accessDenied('the admin API does not accept presigned URLs: sign each request in its Authorization header');
    }
    const declared = headers['x-amz-content-sha256'];
    const actual = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
    if (declared === undefined || !/^[0-9a-f]{64}$/.test(declared)) {
      throw Errors.accessDenied(
        'admin requests must sign their body: set x-amz-content-sha256 to the SHA-256 hex of the body (use the datamesh admin CLI or its client)',
      );
    }
    if (declared !== actual) {
      throw new DomainError('XAmzContentSHA256Mismatch', "the request body does not match its signed x-amz-content-sha256; resend the request");
    }
    if (!accounts.isAdmin(who.account)) {
      throw Errors.accessDenied(
        `the admin API needs the key of an active admin account; account '${who.account}' is not one. Use the root credentials.`,
      );
    }
    c.set('admin', who.account);
    c.set('json', parseJson(body));
    await next();
  });

  const name = (c: Context<Env>): string => c.req.param('name') ?? '';
  const month = (c: Context<Env>): string | undefined => c.req.query('month') || undefined;
  const logged = (c: Context<Env>, action: string, extra: object = {}): void =>
    opts.log?.info({ admin: c.get('admin'), action, ...extra }, 'admin action');

  app.get('/users', (c) => c.json({ users: accounts.listAccounts() }));

  app.post('/users', (c) => {
    const body = objectBody(c.get('json'));
    const n = body.name;
    if (typeof n !== 'string') throw Errors.invalidArgument('the body needs "name": the new account\'s name');
    const role = body.role ?? 'user';
    if (role !== 'user' && role !== 'admin') throw Errors.invalidArgument('"role" must be "user" or "admin"');
    const key = accounts.createAccount({ name: n, role: role as Role, quota: validatePatch(body.quota) });
    logged(c, 'user create', { account: n });
    return c.json(key, 201);
  });

  app.get('/users/:name', (c) => c.json({ ...accounts.getAccount(name(c)), keys: accounts.listKeys(name(c)) }));

  app.delete('/users/:name', (c) => {
    accounts.deleteAccount(name(c));
    logged(c, 'user delete', { account: name(c) });
    return c.body(null, 204);
  });

  app.post('/users/:name/suspend', (c) => {
    const info = accounts.setStatus(name(c), 'suspended');
    logged(c, 'user suspend', { account: name(c) });
    return c.json(info);
  });

  app.post('/users/:name/resume', (c) => {
    const info = accounts.setStatus(name(c), 'active');
    logged(c, 'user resume', { account: name(c) });
    return c.json(info);
  });

  app.get('/users/:name/keys', (c) => c.json({ name: name(c), keys: accounts.listKeys(name(c)) }));

  app.post('/users/:name/keys', (c) => {
    const key = accounts.createKey(name(c));
    logged(c, 'key create', { account: name(c), accessKey: key.accessKeyId });
    return c.json(key, 201);
  });

  app.delete('/users/:name/keys/:accessKey', (c) => {
    accounts.deleteKey(name(c), c.req.param('accessKey'));
    logged(c, 'key delete', { account: name(c), accessKey: c.req.param('accessKey') });
    return c.body(null, 204);
  });

  app.get('/users/:name/quota', (c) => c.json({ name: name(c), quota: accounts.getQuota(name(c)) }));

  app.patch('/users/:name/quota', (c) => {
    const patch = validatePatch(objectBody(c.get('json')));
    const quota = accounts.setQuota(name(c), patch);
    logged(c, 'quota set', { account: name(c), quota: patch });
    return c.json({ name: name(c), quota });
  });

  app.get('/usage', (c) => {
    const reports = accounts.usageReport(undefined, month(c));
    return c.json({ month: reports[0]?.month ?? month(c), usage: reports });
  });

  app.get('/users/:name/usage', (c) => {
    const reports = accounts.usageReport(name(c), month(c));
    return c.json({ month: reports[0]?.month ?? month(c), usage: reports });
  });

  opts.extend?.(app);

  app.all('*', (c) => {
    throw new DomainError('NotFound', `no admin endpoint ${c.req.method} ${new URL(c.req.url).pathname}; see the README for the admin API`);
  });

  return app;
}

function errorResponse(c: Context, err: unknown, log: AdminApiOptions['log']): Response {
  if (!isDomainError(err)) {
    log?.error({ err }, 'admin API internal error');
    return c.json({ error: { code: 'InternalError', message: 'internal error; see the server log' } }, 500);
  }
  const status = ERRORS[err.code].admin as 400;
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter);
  return c.json({ error: { code: err.code, message: err.message } }, status, headers);
}

function parseJson(body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new DomainError('MalformedJSON', 'the request body is not valid JSON');
  }
}

function objectBody(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DomainError('MalformedJSON', 'the request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

/** Reads a request body of at most `max` bytes (EntityTooLarge beyond). */
async function readBounded(stream: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new DomainError('EntityTooLarge', `admin request bodies are limited to ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
