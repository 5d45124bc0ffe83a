/**
 * PostObject: browser-based uploads with a POST policy (SigV4), as produced by boto3's
 * generate_presigned_post and the JS SDK's createPresignedPost. The request carries no
 * Authorization header: the multipart/form-data fields hold the base64 policy and its signature
 * (hex HMAC-SHA256 of the policy with the SigV4 signing key; boto3's default SigV2 forms carry
 * AWSAccessKeyId and a base64 HMAC-SHA1 `signature` instead). Fields before the `file` part are read
 * into memory (bounded); the file part streams into the store.
 */
import { DomainError, Errors } from '../../src/core/errors.ts';
import { createPutBody } from '../../src/core/digest.ts';
import { AuthErrors } from '../auth/auth-errors.ts';
import { MAX_EXPIRES, parseCredential } from '../auth/credentials.ts';
import { ALGORITHM, hmacHex, parseAmzDate, signaturesEqual, signingKey } from '../auth/signing.ts';
import { signaturesEqualV2, signV2 } from '../auth/sigv2.ts';
import type { SecretLookup } from '../auth/index.ts';
import type { Handler, S3Result } from '../context.ts';
import { metaFromHeaders, quoteEtag, validateKey } from '../headers.ts';
import { xmlDocument } from '../xml.ts';
import { requestedAcl } from './access.ts';
import { canonicalIdOf, encodeAcl } from '../access/acl.ts';

/** The fields before the file, names and values together. */
export const MAX_FORM_FIELDS_SIZE = 64 * 1024;
const MAX_PART_HEADERS = 8 * 1024;

const policyError = (message: string): DomainError => new DomainError('AccessDenied', `Invalid according to Policy: ${message}`);
const invalidPolicy = (detail: string): DomainError =>
  new DomainError('InvalidPolicyDocument', `Invalid Policy: ${detail}`);

// ---------------------------------------------------------------------------------------------
// multipart/form-data, streamed

interface PartHead {
  name: string;
  filename?: string;
}

/** Reads a multipart/form-data body part by part from a byte stream, holding at most one field in memory. */
class FormReader {
  private buf: Buffer = Buffer.from('\r\n'); // the first boundary needs no leading CRLF
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly delimiter: Buffer;

  constructor(source: AsyncIterable<Uint8Array>, boundary: string) {
    this.it = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const n = await this.it.next();
    if (n.done) {
      this.done = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? Buffer.from(n.value) : Buffer.concat([this.buf, n.value]);
    return true;
  }

  private malformed(): DomainError {
    return new DomainError('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  }

  /** Skips to the first boundary (a preamble is allowed and ignored). */
  async start(): Promise<void> {
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i >= 0) {
        this.buf = this.buf.subarray(i + this.delimiter.length);
        return;
      }
      if (this.buf.length > MAX_FORM_FIELDS_SIZE) throw this.malformed();
      if (!(await this.fill())) throw this.malformed();
    }
  }

  /** After a delimiter: the next part's headers, or undefined at the closing delimiter. */
  async nextPart(): Promise<PartHead | undefined> {
    while (this.buf.length < 2) if (!(await this.fill())) throw this.malformed();
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) return undefined; // "--": the end
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) {
      if (this.buf.length > MAX_PART_HEADERS) throw this.malformed();
      if (!(await this.fill())) throw this.malformed();
    }
    const lines = this.buf.subarray(0, end).toString('utf8').split('\r\n').slice(1); // the rest of the delimiter line
    this.buf = this.buf.subarray(end + 4);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
      const params = dispositionParams(line.slice(colon + 1));
      const name = params.get('name');
      if (name === undefined) throw this.malformed();
      const filename = params.get('filename');
      return filename === undefined ? { name } : { name, filename };
    }
    throw this.malformed();
  }

  /** The current part's bytes up to the next delimiter, as a stream. */
  async *body(): AsyncGenerator<Uint8Array, void, undefined> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i >= 0) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + this.delimiter.length);
        return;
      }
      if (this.buf.length > keep) {
        const out = this.buf.subarray(0, this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
        yield out;
      }
      if (!(await this.fill())) throw this.malformed();
    }
  }

  /** The current part as a string, within `limit` bytes. */
  async text(limit: number, tooLarge: () => DomainError): Promise<string> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const c of this.body()) {
      size += c.length;
      if (size > limit) throw tooLarge();
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Reads and drops whatever follows (S3 ignores fields after the file). */
  async discard(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}

function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    params.set(m[1]!.toLowerCase(), v);
  }
  return params;
}

function boundaryOf(contentType: string | undefined): string {
  const m = /^\s*multipart\/form-data\s*;(.*)$/i.exec(contentType ?? '');
  const b = m ? /(?:^|;)\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(m[1]!) : null;
  const boundary = b ? (b[1] ?? b[2]) : undefined;
  if (boundary === undefined || boundary.length > 200) {
    throw new DomainError('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data.', {
      Condition: 'Bucket POST must be of the enclosure-type-multipart/form-data',
    });
  }
  return boundary;
}

// ---------------------------------------------------------------------------------------------
// the policy

interface Policy {
  expiration: Date;
  conditions: unknown[];
  lengthRange?: { min: number; max: number };
}

function parsePolicy(base64: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('the policy is not base64-encoded JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('the policy must be a JSON object.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const exp = new Date(expiration);
  if (Number.isNaN(exp.getTime())) throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  return { expiration: exp, conditions };
}

/**
 * Checks every condition against the form (field names lower-case; `bucket` is the request's
 * bucket) and that every field is covered by one. `key` may be checked as sent or with ${filename}
 * replaced. Returns the content-length-range, if any.
 */
function checkConditions(policy: Policy, fields: Map<string, string>, bucket: string, key: string): Policy['lengthRange'] {
  const covered = new Set<string>();
  let range: Policy['lengthRange'];
  const valuesOf = (name: string): string[] => {
    if (name === 'bucket') return [bucket];
    if (name === 'key') return [fields.get('key') ?? '', key];
    return [fields.get(name) ?? ''];
  };
  for (const c of policy.conditions) {
    const shown = JSON.stringify(c);
    if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1) throw invalidPolicy(`a condition object must have exactly one field: ${shown}`);
      const [name, want] = entries[0]!;
      if (typeof want !== 'string') throw invalidPolicy(`condition values must be strings: ${shown}`);
      const field = name.toLowerCase();
      covered.add(field);
      if (!valuesOf(field).includes(want)) throw policyError(`Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(want)}]`);
      continue;
    }
    if (!Array.isArray(c) || c.length !== 3) throw invalidPolicy(`Invalid Policy condition: ${shown}`);
    const [rawOp, a, b] = c as [unknown, unknown, unknown];
    const op = typeof rawOp === 'string' ? rawOp.toLowerCase() : '';
    if (op === 'content-length-range') {
      const min = Number(a);
      const max = Number(b);
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max) {
        throw invalidPolicy(`Invalid content-length-range: ${shown}`);
      }
      range = { min, max };
      continue;
    }
    if ((op !== 'eq' && op !== 'starts-with') || typeof a !== 'string' || !a.startsWith('$') || typeof b !== 'string') {
      throw invalidPolicy(`Invalid Policy condition: ${shown}`);
    }
    const field = a.slice(1).toLowerCase();
    covered.add(field);
    const ok = valuesOf(field).some((v) => (op === 'eq' ? v === b : v.startsWith(b)));
    if (!ok) throw policyError(`Policy Condition failed: ${shown}`);
  }
  const extra = [...fields.keys()].filter(
    (f) => !covered.has(f) && !UNCOVERED.has(f) && !f.startsWith('x-ignore-'),
  );
  if (extra.length > 0) throw policyError(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

/** Fields no condition needs to name (AWSAccessKeyId and signature are SigV2's). */
const UNCOVERED = new Set(['x-amz-signature', 'policy', 'file', 'awsaccesskeyid', 'signature']);

/** Counts the file's bytes against the policy's content-length-range. */
async function* withinRange(
  source: AsyncIterable<Uint8Array>,
  range: { min: number; max: number } | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (range !== undefined && size > range.max) {
      throw new DomainError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        ProposedSize: String(size),
        MaxSizeAllowed: String(range.max),
      });
    }
    yield chunk;
  }
  if (range !== undefined && size < range.min) {
    throw new DomainError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
      ProposedSize: String(size),
      MinSizeAllowed: String(range.min),
    });
  }
}

/**
 * A form lives at most as long as a presigned URL (7 days): from its X-Amz-Date to the policy's
 * expiration, or from now for SigV2 forms (they carry no date).
 */
function checkLifetime(policy: Policy, signed: Date | undefined): void {
  const from = signed?.getTime() ?? Date.now();
  if (policy.expiration.getTime() - from > MAX_EXPIRES * 1000) {
    throw invalidPolicy(
      `the policy expires ${policy.expiration.toISOString()}, more than 7 days (${MAX_EXPIRES} seconds) after ${signed ? 'its X-Amz-Date' : 'now'}; sign a form that expires sooner.`,
    );
  }
}

type Account = { secret: string; account: string };

function verifyV4(
  fields: Map<string, string>,
  policyB64: string,
  lookup: SecretLookup | undefined,
  region: string,
  required: (name: string) => string,
): Account {
  const algorithm = required('x-amz-algorithm');
  const credentialField = required('x-amz-credential');
  const signature = required('x-amz-signature');
  if (parseAmzDate(required('x-amz-date')) === undefined) {
    throw Errors.invalidArgument("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", 'x-amz-date', fields.get('x-amz-date')!);
  }
  if (algorithm !== ALGORITHM) throw Errors.invalidArgument('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', 'x-amz-algorithm', algorithm);
  const credential = parseCredential(credentialField);
  if (credential === undefined || credential.service !== 's3' || credential.terminal !== 'aws4_request') {
    throw Errors.invalidArgument(
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      'x-amz-credential',
      credentialField,
    );
  }
  if (credential.region !== region) {
    throw Errors.invalidArgument(`the region '${credential.region}' is wrong; expecting '${region}'`, 'x-amz-credential', credentialField);
  }
  const secret = lookup?.(credential.accessKey);
  if (secret === undefined) throw AuthErrors.invalidAccessKeyId(credential.accessKey);
  const expected = hmacHex(signingKey(secret.secret, credential.date, credential.region, 's3'), policyB64);
  if (!signaturesEqual(expected, signature)) {
    throw AuthErrors.signatureDoesNotMatch({ AWSAccessKeyId: credential.accessKey, StringToSign: policyB64 });
  }
  return secret;
}

function verifyV2(fields: Map<string, string>, policyB64: string, lookup: SecretLookup | undefined): Account {
  const accessKey = fields.get('awsaccesskeyid')!;
  const signature = fields.get('signature');
  if (signature === undefined) throw Errors.invalidArgument("Bucket POST must contain a field named 'Signature'.", 'Signature', '');
  const secret = lookup?.(accessKey);
  if (secret === undefined) throw AuthErrors.invalidAccessKeyId(accessKey);
  if (!signaturesEqualV2(signV2(secret.secret, policyB64), signature)) {
    throw AuthErrors.signatureDoesNotMatch({ AWSAccessKeyId: accessKey, StringToSign: policyB64 });
  }
  return secret;
}

// ---------------------------------------------------------------------------------------------
// the handler

export const postObject: Handler<'PostObject'> = async (ctx): Promise<S3Result> => {
  const { store, op, headers, body, signal, region, postAuth } = ctx;
  const bucket = op.bucket;
  const form = new FormReader(body.source, boundaryOf(headers['content-type']));
  await form.start();

  // The fields before the file.
  const fields = new Map<string, string>();
  let budget = MAX_FORM_FIELDS_SIZE;
  let file: { filename: string } | undefined;
  for (let part = await form.nextPart(); part !== undefined; part = await form.nextPart()) {
    const name = part.name.toLowerCase();
    if (name === 'file') {
      file = { filename: part.filename ?? '' };
      break;
    }
    budget -= Buffer.byteLength(name);
    const tooLarge = () =>
      new DomainError('MaxPostPreDataLengthExceededError', 'Your POST request fields preceding the upload file were too large.', {
        MaxPostPreDataLength: String(MAX_FORM_FIELDS_SIZE),
      });
    if (budget < 0) throw tooLarge();
    const value = await form.text(budget, tooLarge);
    budget -= Buffer.byteLength(value);
    if (!fields.has(name)) fields.set(name, value);
  }
  if (file === undefined) throw Errors.invalidArgument('POST requires exactly one file upload per request.', 'file', '0');

  // Authentication: the policy's signature.
  const policyB64 = fields.get('policy');
  if (policyB64 === undefined || postAuth === undefined) {
    throw Errors.accessDenied('Anonymous POST uploads are not allowed: the form must carry a policy and its signature.');
  }
  const required = (name: string): string => {
    const v = fields.get(name);
    if (v === undefined) throw Errors.invalidArgument(`Bucket POST must contain a field named '${name}'.`, name, '');
    return v;
  };
  // SigV2 forms (boto3's generate_presigned_post default): AWSAccessKeyId + base64 HMAC-SHA1 signature.
  const v2 = !fields.has('x-amz-algorithm') && fields.has('awsaccesskeyid');
  if (v2 && postAuth.sigv2 === false) throw AuthErrors.unsupportedMechanism(); // --sigv2=false
  const secret = v2 ? verifyV2(fields, policyB64, postAuth.lookup) : verifyV4(fields, policyB64, postAuth.lookup, region, required);
  postAuth.admit(secret.account, v2 ? 'AWS' : ALGORITHM); // and authorizes the bucket

  // The policy.
  const policy = parsePolicy(policyB64);
  if (policy.expiration.getTime() < Date.now()) throw policyError('Policy expired.');
  checkLifetime(policy, v2 ? undefined : parseAmzDate(fields.get('x-amz-date')!));
  const rawKey = fields.get('key');
  if (rawKey === undefined) throw Errors.invalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", 'key', '');
  const key = rawKey.replaceAll('${filename}', file.filename);
  const range = checkConditions(policy, fields, bucket, key);
  validateKey(key);
  // the form's canned `acl` (covered by a policy condition like any field), checked before the file is read
  const cannedName = fields.get('acl');
  const acl =
    cannedName === undefined
      ? undefined
      : await requestedAcl({ ...ctx, headers: { 'x-amz-acl': cannedName } }, canonicalIdOf(store.getBucket(bucket).owner), { body: false });

  const meta = metaFromHeaders(Object.fromEntries(fields));
  const info = await store.putObject(bucket, key, createPutBody(withinRange(form.body(), range)), { meta, signal });
  await form.discard();
  if (acl) store.putObjectAcl(bucket, key, encodeAcl(acl), info.versionId);

  const etag = quoteEtag(info.etag);
  const proto = (headers['x-forwarded-proto'] ?? 'http').split(',')[0]!.trim();
  const location = `${proto}://${headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
    let target: URL | undefined;
    try {
      target = new URL(redirect);
    } catch {
      target = undefined;
    }
    if (target !== undefined) {
      target.searchParams.set('bucket', bucket);
      target.searchParams.set('key', key);
      target.searchParams.set('etag', etag);
      return { status: 303, headers: { Location: target.toString(), ETag: etag } };
    }
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return {
      status: 201,
      headers: { 'Content-Type': 'application/xml', ETag: etag, Location: location },
      body: xmlDocument('PostResponse', { Location: location, Bucket: bucket, Key: key, ETag: etag }),
    };
  }
  return { status: status === '200' ? 200 : 204, headers: { ETag: etag, Location: location } };
};
