/** Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging. */
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { validateTags } from '../headers.ts';
import { list, parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';
import { DomainError } from '../../src/core/errors.ts';

export const getObjectTagging: Handler<'GetObjectTagging'> = ({ store, op }) => {
  const tags = store.getObjectTagging(op.bucket, op.key);
  return xmlResult(
    xmlDocument('Tagging', { TagSet: { Tag: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }),
  );
};

export const putObjectTagging: Handler<'PutObjectTagging'> = async ({ store, op, body }) => {
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'Tagging');
  const set = doc.TagSet;
  if (set === undefined) throw new DomainError('MalformedXML', 'The Tagging document needs a <TagSet>.');
  const entries = list(set, 'Tag').map((t): [string, string] => {
    const k = text(t, 'Key');
    if (k === undefined) throw new DomainError('MalformedXML', 'Every <Tag> needs a <Key>.');
    return [k, text(t, 'Value') ?? ''];
  });
  store.putObjectTagging(op.bucket, op.key, validateTags(entries));
  return { status: 200 };
};

export const deleteObjectTagging: Handler<'DeleteObjectTagging'> = ({ store, op }) => {
  store.putObjectTagging(op.bucket, op.key, {});
  return { status: 204 };
};
