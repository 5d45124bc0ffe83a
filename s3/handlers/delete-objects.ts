/** DeleteObjects: up to 1000 keys; Content-MD5 checked when sent, not required (new SDKs send a CRC). */
import { DomainError, isDomainError } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { validateKey } from '../headers.ts';
import { list, parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';

export const deleteObjects: Handler<'DeleteObjects'> = async ({ store, op, body }) => {
  // putBody verifies Content-MD5 and any x-amz-checksum-* the client sent over the XML document.
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'Delete');
  const quiet = text(doc, 'Quiet')?.toLowerCase() === 'true';
  const objects = list(doc, 'Object');
  if (objects.length === 0) throw new DomainError('MalformedXML', 'The Delete document names no <Object>; list the keys to delete.');
  if (objects.length > 1000) throw new DomainError('MalformedXML', `The Delete document names ${objects.length} objects; the limit is 1000 per request.`);
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const o of objects) {
    const key = text(o, 'Key');
    if (key === undefined || key === '') throw new DomainError('MalformedXML', 'Every <Object> needs a non-empty <Key>.');
    try {
      validateKey(key);
      await store.deleteObject(op.bucket, key);
      deleted.push({ Key: key });
    } catch (e) {
      if (!isDomainError(e) || e.code === 'InternalError') throw e;
      errors.push({ Key: key, Code: e.code, Message: e.message });
    }
  }
  return xmlResult(xmlDocument('DeleteResult', { Deleted: quiet ? [] : deleted, Error: errors }));
};
