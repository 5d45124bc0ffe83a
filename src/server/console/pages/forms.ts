/**
 * Request bodies of the console, read once and within a size limit: the boundedBody middleware
 * reads the raw body (refusing more than MAX_FORM_BODY bytes with 413 before or while it arrives,
 * as S3 bounds its XML bodies), and readForm / readJson parse those bytes. Hono's parseBody()
 * would buffer a body of any size, so the console never calls it.
 */
import { html } from 'hono/html';
import type { MiddlewareHandler } from 'hono';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { notice, page } from '../layout.ts';

/**
 * The largest console request body: a page's worth of selected keys (200 keys of up to 1 KiB,
 * URL-encoded) or a 10,000-part CompleteMultipartUpload list in JSON fit well inside it.
 */
export const MAX_FORM_BODY = 1024 * 1024;

/** Form fields as parseBody({ all: true }) gave them: string | string[] | File. */
export type FormBody = Record<string, unknown>;

class TooLarge extends Error {}

async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new TooLarge();
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

const tooLarge = (c: ConsoleContext, limit: number) => {
  const message = `The request body is larger than the console accepts (${limit} bytes); send fewer fields or smaller values (select fewer objects at once).`;
  c.header('Connection', 'close');
  if (c.req.path.startsWith('/console/api/')) return c.json({ error: { code: 'EntityTooLarge', message } }, 413);
  return c.html(page('Request too large', undefined, 'sign-in', html`<h1>Request too large</h1>${notice(message, 'error')}`), 413);
};

/** Reads the body of every request that has one, at most `limit` bytes, before any handler runs. */
export function boundedBody(limit = MAX_FORM_BODY): MiddlewareHandler<ConsoleEnv> {
  return async function boundedBody(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > limit) return tooLarge(c, limit);
    try {
      c.set('body', await readBounded(c.req.raw.body, limit));
    } catch (e) {
      if (e instanceof TooLarge) return tooLarge(c, limit);
      throw e;
    }
    return next();
  };
}

const bodyOf = (c: ConsoleContext): Buffer => c.get('body') ?? Buffer.alloc(0);

/** The form of a URL-encoded or multipart request, from the bounded body (repeated names give arrays). */
export async function readForm(c: ConsoleContext): Promise<FormBody> {
  const type = c.req.header('content-type') ?? '';
  const out: FormBody = {};
  const add = (k: string, v: unknown) => {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  };
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(bodyOf(c).toString('utf8'))) add(k, v);
  } else if (type.startsWith('multipart/form-data')) {
    const form = await new Response(bodyOf(c), { headers: { 'content-type': type } }).formData().catch(() => undefined);
    form?.forEach((v, k) => add(k, v));
  }
  return out;
}

/** The JSON value of the bounded body; throws a SyntaxError when it is not JSON. */
export const readJson = (c: ConsoleContext): unknown => JSON.parse(bodyOf(c).toString('utf8'));

export function formValue(form: FormBody, name: string): string {
  const v = form[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : '';
  return typeof v === 'string' ? v : '';
}

export function formValues(form: FormBody, name: string): string[] {
  const v = form[name];
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.filter((x): x is string => typeof x === 'string');
}
