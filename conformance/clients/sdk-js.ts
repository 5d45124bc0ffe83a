/**
 * The AWS SDK for JavaScript v3 (@aws-sdk/client-s3 + @aws-sdk/lib-storage) with default settings:
 * the 2025 default CRC checksums and aws-chunked trailers, path-style, then the same calls
 * virtual-hosted-style (BUCKET.DOMAIN, resolved to 127.0.0.1 by the client's agent).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MiB } from '../harness/fixtures.ts';
import type { ClientSuite, Scenario } from '../harness/types.ts';
import type { Style } from './sdk-common.ts';
import {
  bucketsScenario,
  checksumsScenario,
  copyScenario,
  deleteScenario,
  headRangeScenario,
  listScenario,
  putGetScenario,
  taggingScenario,
} from './sdk-js-objects.ts';
import { multipartScenario, uploadStreamScenario } from './sdk-js-multipart.ts';

const require = createRequire(import.meta.url);

export function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
  return pkg.version;
}

function pathStyle(): Scenario[] {
  const s: Style = 'path';
  return [
    { name: 'create/head/list/delete bucket', op: 'buckets', run: (ctx) => bucketsScenario(ctx, s) },
    { name: 'PutObject/GetObject (default CRC32, aws-chunked trailer)', op: 'put / get', also: ['checksums'], run: (ctx) => putGetScenario(ctx, s) },
    { name: 'HeadObject, metadata, ranges, If-None-Match', op: 'head', run: (ctx) => headRangeScenario(ctx, s) },
    { name: 'multipart calls, ListParts, UploadPartCopy, abort', op: 'multipart', also: ['copy'], run: (ctx) => multipartScenario(ctx, s) },
    { name: 'lib-storage Upload 200 MiB stream', op: 'large upload', also: ['multipart'], timeoutMs: 300_000, run: (ctx) => uploadStreamScenario(ctx, s, 200 * MiB) },
    { name: 'ListObjectsV2 pages, delimiter, ListObjects v1', op: 'list', run: (ctx) => listScenario(ctx, s) },
    { name: 'DeleteObject, DeleteObjects (no Content-MD5)', op: 'delete', run: (ctx) => deleteScenario(ctx, s) },
    { name: 'CopyObject COPY/REPLACE', op: 'copy', run: (ctx) => copyScenario(ctx, s) },
    { name: 'object tagging', op: 'tagging', run: (ctx) => taggingScenario(ctx, s) },
    { name: 'checksums CRC32/CRC32C/CRC64NVME/SHA1/SHA256, bad digest', op: 'checksums', run: (ctx) => checksumsScenario(ctx, s) },
  ];
}

function virtualHosted(): Scenario[] {
  const s: Style = 'virtual';
  const op = 'virtual-hosted style' as const;
  return [
    { name: 'vhost: buckets', op, run: (ctx) => bucketsScenario(ctx, s) },
    { name: 'vhost: PutObject/GetObject', op, run: (ctx) => putGetScenario(ctx, s) },
    { name: 'vhost: HeadObject and ranges', op, run: (ctx) => headRangeScenario(ctx, s) },
    { name: 'vhost: multipart calls', op, run: (ctx) => multipartScenario(ctx, s) },
    { name: 'vhost: lib-storage Upload 12 MiB stream', op, run: (ctx) => uploadStreamScenario(ctx, s, 12 * MiB) },
    { name: 'vhost: listings', op, run: (ctx) => listScenario(ctx, s) },
    { name: 'vhost: deletes', op, run: (ctx) => deleteScenario(ctx, s) },
    { name: 'vhost: CopyObject', op, run: (ctx) => copyScenario(ctx, s) },
    { name: 'vhost: tagging', op, run: (ctx) => taggingScenario(ctx, s) },
  ];
}

export const sdkJs: ClientSuite = {
  name: 'sdk-js',
  async detect() {
    try {
      return { version: `client-s3 ${packageVersion('@aws-sdk/client-s3')}, lib-storage ${packageVersion('@aws-sdk/lib-storage')}` };
    } catch {
      return { missing: '@aws-sdk/client-s3 is not installed: run npm ci' };
    }
  },
  scenarios: [...pathStyle(), ...virtualHosted()],
};
