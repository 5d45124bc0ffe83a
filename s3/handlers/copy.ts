/** CopyObject, and the copy-source parsing UploadPartCopy shares. */
import { DomainError, Errors } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import {
  checkCopySourceConditions,
  checksumFields,
  metaFromHeaders,
  parseTaggingHeader,
  quoteEtag,
  validateKey,
  writeConditions,
} from '../headers.ts';
import { xmlDocument } from '../xml.ts';
import { versionHeaders } from './versioning.ts';
import { lockFromHeaders } from './object-lock.ts';
import { checkServerSideEncryption, customerKeyOf, encryptionHeaders } from '../sse.ts';

/** x-amz-copy-source: "/bucket/key" or "bucket/key", URL-encoded, optionally "?versionId=...". */
export function parseCopySource(header: string | undefined): { bucket: string; key: string; versionId?: string } {
  if (header === undefined) throw Errors.invalidArgument('x-amz-copy-source is required.', 'x-amz-copy-source', '');
  let v = header.startsWith('/') ? header.slice(1) : header;
  const q = v.indexOf('?');
  let versionId: string | undefined;
  if (q >= 0) {
    const version = new URLSearchParams(v.slice(q + 1)).get('versionId');
    if (version !== null) {
      if (version === '') throw Errors.invalidArgument('Version id cannot be the empty string', 'x-amz-copy-source', header);
      versionId = version;
    }
    v = v.slice(0, q);
  }
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) {
    throw Errors.invalidArgument(
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey (URL-encoded).",
      'x-amz-copy-source',
      header,
    );
  }
  try {
    return {
      bucket: decodeURIComponent(v.slice(0, slash)),
      key: decodeURIComponent(v.slice(slash + 1)),
      ...(versionId !== undefined ? { versionId } : {}),
    };
  } catch {
    throw Errors.invalidArgument('x-amz-copy-source is not valid URL-encoding.', 'x-amz-copy-source', header);
  }
}

function directive(v: string | undefined, name: string): 'COPY' | 'REPLACE' {
  if (v === undefined) return 'COPY';
  const up = v.toUpperCase();
  if (up !== 'COPY' && up !== 'REPLACE') throw Errors.invalidArgument(`Unknown ${name} '${v}': use COPY or REPLACE.`, name, v);
  return up;
}

export const copyObject: Handler<'CopyObject'> = async (ctx) => {
  const { store, op, headers, signal, authorizeBucket } = ctx;
  validateKey(op.key);
  const src = parseCopySource(op.copySource);
  authorizeBucket(src.bucket, 'read', src.key);
  const sourceCustomerKey = customerKeyOf(headers, ctx, true);
  const customerKey = customerKeyOf(headers, ctx);
  checkServerSideEncryption(headers, customerKey);
  const metadataDirective = directive(headers['x-amz-metadata-directive'], 'x-amz-metadata-directive');
  const taggingDirective = directive(headers['x-amz-tagging-directive'], 'x-amz-tagging-directive');
  let sourceVersion: string | undefined;
  const info = await store.copyObject(src, { bucket: op.bucket, key: op.key }, {
    metadataDirective,
    meta: metadataDirective === 'REPLACE' ? metaFromHeaders(headers) : undefined,
    taggingDirective,
    tags: taggingDirective === 'REPLACE' ? (parseTaggingHeader(headers['x-amz-tagging']) ?? {}) : undefined,
    check: (source) => {
      checkCopySourceConditions(headers, source);
      sourceVersion = source.versionId;
    },
    conditions: writeConditions(headers),
    signal,
    lock: lockFromHeaders(headers),
    ...(sourceCustomerKey ? { sourceCustomerKey } : {}),
    ...(customerKey ? { customerKey } : {}),
  });
  // versions (issue 16): which source version was copied, and the new version's id
  const vh = { ...versionHeaders(store, info, { lock: false }), ...encryptionHeaders(info, customerKey) };
  if (sourceVersion !== undefined && (sourceVersion !== 'null' || src.versionId !== undefined || store.getBucketVersioning(src.bucket) !== undefined)) {
    vh['x-amz-copy-source-version-id'] = sourceVersion;
  }
  return xmlResult(
    xmlDocument('CopyObjectResult', {
      ETag: quoteEtag(info.etag),
      LastModified: info.lastModified.toISOString(),
      ...checksumFields(info.checksums),
    }),
    vh,
  );
};
