/** DeleteObjects: up to 1000 keys; Content-MD5 checked when sent, not required (new SDKs send a CRC). */
import { DomainError, isDomainError } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { validateKey } from '../headers.ts';
import { list, readXml, text, xmlDocument } from '../xml.ts';
import { removeOptions } from './versioning.ts';

export const deleteObjects: Handler<'DeleteObjects'> = async (ctx) => {
  const { store, op, body } = ctx;
  // putBody verifies Content-MD5 and any x-amz-checksum-* the client sent over the XML document.
  const doc = await readXml(body.putBody(), 'Delete');
  const quiet = text(doc, 'Quiet')?.toLowerCase() === 'true';
  const objects = list(doc, 'Object');
  if (objects.length === 0) throw new DomainError('MalformedXML', 'The Delete document names no <Object>; list the keys to delete.');
  if (objects.length > 1000) throw new DomainError('MalformedXML', `The Delete document names ${objects.length} objects; the limit is 1000 per request.`);
  const deleted: { Key: string; VersionId?: string; DeleteMarker?: boolean; DeleteMarkerVersionId?: string }[] = [];
  const errors: { Key: string; VersionId?: string; Code: string; Message: string }[] = [];
  for (const o of objects) {
    const key = text(o, 'Key');
    if (key === undefined || key === '') throw new DomainError('MalformedXML', 'Every <Object> needs a non-empty <Key>.');
    const versionId = text(o, 'VersionId') || undefined;
    try {
      validateKey(key);
      // versions (issue 16): a VersionId removes that version; without one, a marker in a versioned bucket
      const r = await store.removeObject(op.bucket, key, removeOptions(ctx, versionId));
      deleted.push({
        Key: key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
        ...(r.deleteMarker ? { DeleteMarker: true } : {}),
        ...(r.deleteMarker && r.versionId !== undefined ? { DeleteMarkerVersionId: r.versionId } : {}),
      });
    } catch (e) {
      if (!isDomainError(e) || e.code === 'InternalError') throw e;
      errors.push({ Key: key, ...(versionId !== undefined ? { VersionId: versionId } : {}), Code: e.code, Message: e.message });
    }
  }
  return xmlResult(xmlDocument('DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors }));
};
