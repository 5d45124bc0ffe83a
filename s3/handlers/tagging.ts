/** Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging. */
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { validateTags } from '../headers.ts';
import { list, readXml, text, xmlDocument } from '../xml.ts';
import { DomainError } from '../../src/core/errors.ts';
import type { ObjectStore } from '../../src/core/object-store.ts';
import { versionIdOf } from './versioning.ts';

export const getObjectTagging: Handler<'GetObjectTagging'> = ({ store, op }) => {
  const { tags, versionId } = store.getVersionTagging(op.bucket, op.key, versionIdOf(op.query));
  return xmlResult(
    xmlDocument('Tagging', { TagSet: { Tag: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }),
    versionIdHeader(store, op.bucket, versionId),
  );
};

/** x-amz-version-id of the version a tagging call touched (issue 16). */
function versionIdHeader(store: ObjectStore, bucket: string, versionId: string): Record<string, string> {
  return versionId !== 'null' || store.getBucketVersioning(bucket) !== undefined ? { 'x-amz-version-id': versionId } : {};
}

export const putObjectTagging: Handler<'PutObjectTagging'> = async ({ store, op, body }) => {
  const doc = await readXml(body.putBody(), 'Tagging');
  const set = doc.TagSet;
  if (set === undefined) throw new DomainError('MalformedXML', 'The Tagging document needs a <TagSet>.');
  const entries = list(set, 'Tag').map((t): [string, string] => {
    const k = text(t, 'Key');
    if (k === undefined) throw new DomainError('MalformedXML', 'Every <Tag> needs a <Key>.');
    return [k, text(t, 'Value') ?? ''];
  });
  const versionId = store.putVersionTagging(op.bucket, op.key, validateTags(entries), versionIdOf(op.query));
  return { status: 200, headers: versionIdHeader(store, op.bucket, versionId) };
};

export const deleteObjectTagging: Handler<'DeleteObjectTagging'> = ({ store, op }) => {
  const versionId = store.putVersionTagging(op.bucket, op.key, {}, versionIdOf(op.query));
  return { status: 204, headers: versionIdHeader(store, op.bucket, versionId) };
};
