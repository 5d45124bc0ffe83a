/**
 * The S3 endpoint: request id -> route -> authenticate -> admit -> authorize the bucket (once, by
 * the dispatch table's access class) -> handler -> response. Responses are written straight to the
 * Node response (object bodies are piped, never buffered); an error after the headers went out
 * destroys the socket, so a client never sees a short body as complete.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { consumed } from '../src/core/lent.ts';
import { DomainError, isDomainError } from '../src/core/errors.ts';
import type { AccessClass, Admission } from '../src/core/access.ts';
import type { BucketInfo, ObjectStore } from '../src/core/object-store.ts';
import type { AuthRequest, AuthResult, SecretLookup } from './auth/index.ts';
import { requestBody } from './body.ts';
import { bodyOf, discardRest } from './drain.ts';
import { withHoistedHeaders } from './hoisted.ts';
import type { S3Context, S3Result } from './context.ts';
import { toS3Error } from './errors.ts';
import { dispatch, requestClassOf, type Route } from './handlers/index.ts';
import { addressOf, route, type Operation, type OperationName, type RouteInput } from './router.ts';
import { literalPlusInput } from './query-plus.ts';
import { authorizeRequest, isAnonymous } from './access/authorize.ts';
import { canonicalIdOf, encodeAcl } from './access/acl.ts';
import type { RequestFacts } from './access/request-context.ts';
import { actualCorsHeaders, requestedAcl } from './handlers/access.ts';
import { isLoopback } from '../src/core/loopback.ts';

type Facts = Omit<RequestFacts, 'account' | 'existingTags'>;
/** Writes that may carry x-amz-acl / x-amz-grant-* for the object they make. */
const ACL_ON_WRITE = new Set<OperationName>(['PutObject', 'CopyObject']);

export interface RequestRecord {
  requestId: string;
  method: string;
  operation?: string;
  bucket?: string;
  key?: string;
  account?: string;
  status: number;
  errorCode?: string;
  bytesIn: number;
  bytesOut: number;
  /** Of bytesIn and bytesOut, what chargeTransfer already counted as the bytes flowed. */
  chargedIn?: number;
  chargedOut?: number;
  durationMs: number;
}

export interface S3ServiceDeps {
  store: ObjectStore;
  region: string;
  domain?: string;
  authenticate: (req: AuthRequest) => AuthResult;
  /** Per-request admission: suspended accounts, rate limits, transfer quotas (throws DomainError). */
  admit?: (account: string, admission: Admission) => void;
  /**
   * May `account` access `bucket` this way (throws AccessDenied)? Defaults to: only the bucket's
   * owner. The service resolves the bucket (NoSuchBucket) and calls this once per request, before
   * the handler runs; handlers call it again only for a second bucket (a copy source).
   */
  authorizeBucket?: (account: string, bucket: BucketInfo, access: AccessClass) => void;
  /** Called once per request when its response is done (logs, metrics, metering). */
  onDone?: (r: RequestRecord) => void;
  /** Unexpected errors (they become InternalError on the wire). */
  onInternalError?: (err: unknown, r: { requestId: string; operation?: string }) => void;
  /** A server fault whose S3 message was stripped of paths or peer ids: `detail` is the full message, for the log. */
  onServerFault?: (detail: string, r: { requestId: string; operation?: string; code: string }) => void;
  /** Request limits (src/limits.ts): enter() throws SlowDown when full; guardBody() cuts an idle body with RequestTimeout. */
  limits?: {
    enter(): () => void;
    /** For a PostObject until its form's signature is verified: a pool apart from the signed requests'. */
    enterUnauthenticated(): () => void;
    guardBody(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  };
  /**
   * Counts an authenticated request's body bytes as they flow, in and out, throwing (QuotaExceeded)
   * once the account's monthly transfer is used up: a transfer stops within one chunk of the quota.
   */
  chargeTransfer?: (account: string, operation: string, t: { ingress?: number; egress?: number }) => void;
  /** Access key -> secret and account: PostObject verifies its form's policy signature with it. */
  lookup?: SecretLookup;
  /** Accept SigV2 POST forms (`--sigv2`; the authenticate function decides for headers and queries). Default true. */
  sigv2?: boolean;
  /** SSE-C keys accepted over plain HTTP from non-loopback clients (--allow-insecure-sse-c). */
  allowInsecureSseC?: boolean;
}

/** PostObject is signed by its form fields, not its headers: its handler authenticates (ctx.postAuth). */
const FORM_AUTH: AuthResult = { accessKey: '', account: '', mode: 'UNSIGNED-PAYLOAD', presigned: false };

/** Random request ids, 16 hex digits each, cut from a pool filled 512 at a time (one getrandom call, not one a request). */
let idPool = '';
let idAt = 0;
export function newRequestId(): string {
  if (idAt >= idPool.length) {
    idPool = randomBytes(8 * 512).toString('hex').toUpperCase();
    idAt = 0;
  }
  idAt += 16;
  return idPool.slice(idAt - 16, idAt);
}

/** Lower-case names; a repeated header's values joined by ',' as SigV4 and SigV2 sign them (Node joins most with ', '). */
function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = {};
  const raw = req.rawHeaders as string[] | undefined;
  if (raw !== undefined) {
    // the name/value pairs as received: no per-header arrays (headersDistinct) to build and join
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      const prev = Object.hasOwn(h, k) ? h[k] : undefined;
      h[k] = prev === undefined ? raw[i + 1]! : `${prev},${raw[i + 1]!}`;
    }
    return h;
  }
  for (const [k, v] of Object.entries(req.headersDistinct ?? req.headers)) {
    if (v === undefined) continue;
    h[k] = Array.isArray(v) ? v.join(',') : v;
  }
  return h;
}

/** Counts the bytes read from a stream. */
async function* counted(source: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    add(chunk.length);
    yield chunk;
  }
}

export function createS3Service(deps: S3ServiceDeps) {
  /** Access to a bucket other than the operation's (a copy source), by access class. */
  const AS_OPERATION: Record<AccessClass, string> = { read: 'GetObject', list: 'ListObjects', write: 'PutObject', owner: 'DeleteBucket' };
  const authorizeBucket = (account: string, name: string, access: AccessClass, facts: Facts, key?: string): BucketInfo => {
    if (deps.authorizeBucket) {
      const bucket = deps.store.getBucket(name);
      deps.authorizeBucket(account, bucket, access);
      return bucket;
    }
    return authorizeRequest(deps.store, { account: account || undefined, operation: AS_OPERATION[access], bucket: name, ...(key === undefined ? {} : { key }), facts });
  };
  /**
   * The operation's own bucket (none for ListBuckets and CreateBucket): bucket policy, ACLs,
   * ownership controls and public access block, in AWS's order (s3/access/decide.ts).
   */
  const authorizeOperation = (account: string, op: Operation, r: Route<OperationName>, facts: Facts): BucketInfo | undefined => {
    if (op.bucket === undefined || r.creates || r.anonymous) return undefined;
    if (deps.authorizeBucket) return authorizeBucket(account, op.bucket, r.access, facts);
    const versionId = op.key === undefined ? null : op.query.get('versionId');
    return authorizeRequest(deps.store, {
      account: account || undefined,
      operation: op.name,
      bucket: op.bucket,
      ...(op.key === undefined ? {} : { key: op.key }),
      ...(versionId ? { versionId } : {}),
      facts,
    });
  };

  return async function s3(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const rawHeaders = lowerHeaders(req);
    let input: RouteInput = { method, host: rawHeaders.host, rawPath, query: new URLSearchParams(rawQuery), headers: rawHeaders };
    input.headers = withHoistedHeaders(rawHeaders, input.query);
    const record: RequestRecord = { requestId, method, status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0 };
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new DomainError('RequestTimeout', 'The client closed the connection.'));
    });
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('Server', 'datamesh');

    let op: Operation | undefined;
    let leave: (() => void) | undefined;
    let continued = false; // 100 Continue sent
    try {
      op = route(input, deps.domain);
      record.operation = op.name;
      record.bucket = op.bucket;
      record.key = op.key;
      const byForm = op.name === 'PostObject';
      leave = byForm ? deps.limits?.enterUnauthenticated() : deps.limits?.enter();
      let r0 = dispatch[op.name] as Route<OperationName>;
      // no credentials at all: anonymous, allowed only where an ACL or a bucket policy says so
      const anonymous = !byForm && (r0.anonymous === true || isAnonymous(input.headers, input.query));
      if (anonymous && r0.anonymous !== true && (op.bucket === undefined || r0.creates)) throw new DomainError('AccessDenied', 'Access Denied');
      const auth = byForm || anonymous ? FORM_AUTH : deps.authenticate({ method, rawPath, rawQuery, headers: rawHeaders });
      // a literal '+' was signed: route by the reading the signature matched
      if (auth.literalPlus) {
        op = route((input = literalPlusInput(input, rawQuery, rawHeaders)), deps.domain);
        r0 = dispatch[op.name] as Route<OperationName>;
      }
      const { headers, query } = input;
      const facts: Facts = {
        sourceIp: req.socket?.remoteAddress,
        secure: (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true,
        now: new Date(),
        headers,
        query,
        ...(anonymous || byForm ? {} : { signatureVersion: auth.signatureVersion ?? 'AWS4-HMAC-SHA256', authType: auth.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER' }),
      };
      const operation = op;
      // The table pairs each name with its handler; TypeScript cannot follow that pairing through
      // an index by a union, so the row is taken as one over any operation.
      const r = r0;
      const admission: Admission = { operation: op.name, requestClass: requestClassOf(r), transfersData: r.transfersData ?? true };
      /** Bytes moved for another account or for nobody count against the bucket's owner. */
      const meterOwner = (bucket: BucketInfo | undefined): void => {
        if (bucket && record.account !== bucket.owner) record.account = bucket.owner;
      };
      const admit = (account: string): void => {
        record.account = account;
        deps.admit?.(account, admission);
      };
      if (!byForm && !anonymous) admit(auth.account);
      const body = bodyOf(req); // an early error leaves the request readable: discardRest() below
      const raw = counted(deps.limits ? deps.limits.guardBody(body) : body, (n) => {
        record.bytesIn += n;
        charge(deps, record, 'ingress', n);
      });
      const ctx: S3Context = {
        op,
        store: deps.store,
        account: auth.account,
        region: deps.region,
        requestId,
        headers,
        body: requestBody(raw, auth, headers),
        signal: abort.signal,
        keysAllowed: facts.secure === true || isLoopback(facts.sourceIp) || deps.allowInsecureSseC === true,
        authorizeBucket: (bucket, access, key) => authorizeBucket(ctx.account, bucket, access, facts, key),
      };
      if (byForm) {
        ctx.postAuth = {
          lookup: deps.lookup,
          sigv2: deps.sigv2 ?? true,
          admit: (account, signatureVersion) => {
            ctx.account = account;
            admit(account);
            meterOwner(authorizeOperation(account, operation, r, { ...facts, signatureVersion, authType: 'POST' }));
            leave?.(); // the form is signed: its file part takes a slot of the signed requests
            leave = deps.limits?.enter();
          },
        };
      } else meterOwner(authorizeOperation(auth.account, op, r, facts));
      // An ACL asked for with a write is checked before any byte is taken, and set once it is stored.
      const aclOnWrite = ACL_ON_WRITE.has(op.name) && op.bucket !== undefined ? await requestedAcl(ctx, canonicalIdOf(deps.store.getBucket(op.bucket).owner), { body: false }) : undefined;
      // Expect: 100-continue is answered only now, signed and authorized: a refused request never
      // gets its body sent (the server registers 'checkContinue', so Node does not answer it itself).
      if (expectsContinue(req) && !res.headersSent) {
        res.writeContinue();
        continued = true;
      }
      const result = await r.handler(ctx);
      if (aclOnWrite && op.bucket !== undefined && op.key !== undefined) {
        deps.store.putObjectAcl(op.bucket, op.key, encodeAcl(aclOnWrite), result.headers?.['x-amz-version-id']); // the version just written
      }
      if (headers.origin && op.bucket !== undefined && op.name !== 'OptionsObject') {
        Object.assign((result.headers ??= {}), actualCorsHeaders(deps.store, op.bucket, headers.origin, method));
      }
      await send(res, result, method, (n) => {
        if (!res.writableEnded) charge(deps, record, 'egress', n); // a whole small answer is recorded at the end
        record.bytesOut += n;
      });
      record.status = result.status ?? 200;
    } catch (err) {
      if (op === undefined) {
        // not routable (bad method or sub-resource): still log which bucket and key it named
        try {
          ({ bucket: record.bucket, key: record.key } = addressOf(input, deps.domain));
        } catch {
          // the path itself is bad; the error below says so
        }
      }
      // A connection closed under the request (client gone, or cut at shutdown) is not a server fault.
      const gone = !isDomainError(err) && (abort.signal.aborted || req.socket?.destroyed === true);
      if (!isDomainError(err) && !gone) deps.onInternalError?.(err, { requestId, operation: op?.name });
      const resource = decodeSafe(rawPath);
      const e = toS3Error(err, { resource, requestId, head: method === 'HEAD' });
      if (e.detail !== undefined) deps.onServerFault?.(e.detail, { requestId, operation: op?.name, code: e.code });
      record.status = gone ? 499 : e.status;
      record.errorCode = gone ? 'ClientClosedRequest' : e.code;
      if (res.headersSent) {
        // Too late for an error document: cut the connection so the client sees a failure.
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      } else {
        const body = Buffer.from(e.body);
        if (e.code === 'RequestTimeout' && !req.complete) res.shouldKeepAlive = false; // the rest of a stalled body never comes
        else if (expectsContinue(req) && !continued && !req.complete) res.shouldKeepAlive = false; // the client holds its body back
        else discardRest(req);
        res.writeHead(e.status, { ...e.headers, 'Content-Type': 'application/xml', 'Content-Length': String(body.length) });
        res.end(method === 'HEAD' ? undefined : body);
        record.bytesOut += body.length;
      }
    } finally {
      leave?.();
      record.durationMs = performance.now() - started;
      deps.onDone?.(record);
    }
  };
}

/** Charges `n` bytes to the request's account (once it is known) as they flow; throws when over the transfer quota. */
function charge(deps: S3ServiceDeps, record: RequestRecord, direction: 'ingress' | 'egress', n: number): void {
  if (!deps.chargeTransfer || record.account === undefined || record.operation === undefined) return;
  deps.chargeTransfer(record.account, record.operation, direction === 'ingress' ? { ingress: n } : { egress: n });
  if (direction === 'ingress') record.chargedIn = (record.chargedIn ?? 0) + n;
  else record.chargedOut = (record.chargedOut ?? 0) + n;
}

const expectsContinue = (req: IncomingMessage): boolean => (req.headers.expect ?? '').toLowerCase() === '100-continue';

function decodeSafe(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

const closedEarly = () => new Error('the connection closed before the whole body was sent');

/**
 * Writes a streamed body with backpressure. A chunk is marked consumed (src/core/lent.ts) only in
 * its write callback: the socket has taken the bytes, so a recycled buffer can go back.
 */
async function writeBody(res: ServerResponse, body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    if (res.destroyed) throw closedEarly();
    if (res.write(chunk, () => consumed(chunk))) continue;
    await new Promise<void>((ok, fail) => {
      if (res.destroyed) return fail(closedEarly());
      const onDrain = () => (res.off('close', onClose), ok());
      const onClose = () => (res.off('drain', onDrain), fail(closedEarly()));
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
  res.end();
  await finished(res);
}

async function send(res: ServerResponse, r: S3Result, method: string, add: (n: number) => void): Promise<void> {
  const status = r.status ?? 200;
  const headers = r.headers ?? {};
  if (r.body instanceof Readable) {
    if (method === 'HEAD') {
      r.body.destroy();
      res.writeHead(status, headers);
      res.end();
      return;
    }
    // Read the first chunk before the headers go out: a body that fails at once (an unreadable
    // first segment) still gets a proper S3 error instead of a cut connection.
    const it = r.body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const first = await it.next();
    res.writeHead(status, headers);
    async function* rest(): AsyncIterable<Uint8Array> {
      try {
        if (!first.done) yield first.value;
        for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
      } finally {
        await it.return?.(); // a client that went away stops the read behind it
      }
    }
    await writeBody(res, counted(rest(), add));
    return;
  }
  // A text body goes to the socket as a string: Node writes it after the header in one write, with
  // no Buffer made of it first (a LIST page is ~250 KB of XML).
  const body = r.body;
  const length = body === undefined ? undefined : Buffer.byteLength(body, 'utf8');
  if (length !== undefined) headers['Content-Length'] = String(length);
  else if (!('Content-Length' in headers) && status !== 204 && status !== 304) headers['Content-Length'] = '0';
  res.writeHead(status, headers);
  if (method === 'HEAD' || body === undefined) res.end();
  else res.end(body, 'utf8');
  if (length) add(length);
}
