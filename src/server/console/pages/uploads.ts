/**
 * The upload API behind console.js: JSON, CSRF header, same origin. The browser sends the bytes
 * straight to S3 with URLs presigned here for the signed-in key (PUT for small files, UploadPart
 * for large ones); the console server only starts, completes and aborts multipart uploads.
 */
import type { Hono } from 'hono';
import type { ConsoleContext, ConsoleEnv } from '../context.ts';
import { S3CallError } from '../s3-client.ts';
import { readJson } from './forms.ts';

/** Files above this go multipart; also the part size (grown for files of more than 10,000 parts). */
export const PART_SIZE = 16 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Presigned upload URLs live this long (a part that starts late asks again). */
const URL_EXPIRY = 3600;

export const partSizeFor = (size: number): number => Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / (1024 * 1024)) * 1024 * 1024);

class BadRequest extends Error {}

async function jsonBody(c: ConsoleContext): Promise<Record<string, unknown>> {
  try {
    const v = readJson(c);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // falls through
  }
  throw new BadRequest('the body must be a JSON object');
}

function text(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw new BadRequest(`"${name}" must be a non-empty string`);
  return v;
}

export function mountUploads(app: Hono<ConsoleEnv>): void {
  const api = (fn: (c: ConsoleContext, body: Record<string, unknown>) => Promise<object>) => async (c: ConsoleContext) => {
    try {
      return c.json(await fn(c, await jsonBody(c)));
    } catch (e) {
      if (e instanceof BadRequest) return c.json({ error: { code: 'InvalidRequest', message: e.message } }, 400);
      if (e instanceof S3CallError && e.status < 500) return c.json({ error: { code: e.code, message: e.message } }, e.status as 400);
      throw e;
    }
  };

  app.post(
    '/api/uploads/put-url',
    api(async (c, b) => ({
      url: await c.get('s3').presign(c.get('origin'), { method: 'PUT', bucket: text(b, 'bucket'), key: text(b, 'key'), expiresIn: URL_EXPIRY }),
    })),
  );

  app.post(
    '/api/uploads/create',
    api(async (c, b) => {
      const size = Number(b.size);
      if (!Number.isSafeInteger(size) || size < 0) throw new BadRequest('"size" must be the file size in bytes');
      const contentType = typeof b.contentType === 'string' ? b.contentType : undefined;
      const uploadId = await c.get('s3').createMultipart(text(b, 'bucket'), text(b, 'key'), contentType);
      return { uploadId, partSize: partSizeFor(size) };
    }),
  );

  app.post(
    '/api/uploads/part-urls',
    api(async (c, b) => {
      const bucket = text(b, 'bucket');
      const key = text(b, 'key');
      const uploadId = text(b, 'uploadId');
      const numbers = b.partNumbers;
      if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > 100 || !numbers.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_PARTS)) {
        throw new BadRequest('"partNumbers" must be 1 to 100 part numbers between 1 and 10000');
      }
      const urls: Record<string, string> = {};
      for (const n of numbers as number[]) {
        urls[n] = await c
          .get('s3')
          .presign(c.get('origin'), { method: 'PUT', bucket, key, query: { partNumber: String(n), uploadId }, expiresIn: URL_EXPIRY });
      }
      return { urls };
    }),
  );

  app.post(
    '/api/uploads/complete',
    api(async (c, b) => {
      const parts = b.parts;
      if (!Array.isArray(parts) || !parts.every((p) => typeof p?.etag === 'string' && Number.isInteger(p?.partNumber))) {
        throw new BadRequest('"parts" must list {partNumber, etag} for every part');
      }
      const etag = await c.get('s3').completeMultipart(text(b, 'bucket'), text(b, 'key'), text(b, 'uploadId'), parts as { partNumber: number; etag: string }[]);
      return { etag };
    }),
  );

  app.post(
    '/api/uploads/abort',
    api(async (c, b) => {
      await c.get('s3').abortMultipart(text(b, 'bucket'), text(b, 'key'), text(b, 'uploadId'));
      return { aborted: true };
    }),
  );
}
