/**
 * Lifecycle (issue 16): Put/Get/DeleteBucketLifecycleConfiguration and x-amz-expiration. The rules
 * are applied by the store's lifecycle worker (src/store/lifecycle.ts).
 */
import { DomainError } from '../../src/core/errors.ts';
import type { LifecycleFilter, LifecycleRule, ObjectInfo, ObjectStore, Tags } from '../../src/core/object-store.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { list, parseXml, readSmallBody, text, xmlDocument, type XmlObject } from '../xml.ts';

const malformed = (m: string) => new DomainError('MalformedXML', m);
const MAX_RULES = 1000;

/** x-amz-expiration: expiry-date="<HTTP date>", rule-id="<id>" for a version a rule expires. */
export function expirationHeader(store: ObjectStore, info: ObjectInfo): Record<string, string> {
  const e = store.expirationOf(info);
  return e ? { 'x-amz-expiration': `expiry-date="${e.date.toUTCString()}", rule-id="${e.ruleId}"` } : {};
}

function intOf(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new DomainError('InvalidArgument', `'${name}' must be an integer of at least ${min}, not '${v}'.`, { ArgumentName: name, ArgumentValue: v });
  }
  return n;
}

function tagsOf(node: unknown): Tags {
  const out: Tags = {};
  for (const t of list(node, 'Tag')) {
    const k = text(t, 'Key');
    if (k === undefined || k === '') throw malformed('Every <Tag> of a lifecycle filter needs a <Key>.');
    out[k] = text(t, 'Value') ?? '';
  }
  return out;
}

function filterOf(rule: Record<string, unknown>): LifecycleFilter {
  const legacyPrefix = text(rule, 'Prefix');
  const f = rule.Filter as Record<string, unknown> | undefined | '';
  if (f === undefined || f === '') return legacyPrefix ? { prefix: legacyPrefix } : {};
  if (legacyPrefix !== undefined) throw malformed('A rule has either <Prefix> or <Filter>, not both.');
  const and = f.And as Record<string, unknown> | undefined;
  const node = and ?? f;
  const out: LifecycleFilter = {};
  const prefix = text(node, 'Prefix');
  if (prefix) out.prefix = prefix;
  const tags = tagsOf(node);
  if (Object.keys(tags).length > 0) out.tags = tags;
  const gt = intOf(text(node, 'ObjectSizeGreaterThan'), 'ObjectSizeGreaterThan', 0);
  const lt = intOf(text(node, 'ObjectSizeLessThan'), 'ObjectSizeLessThan', 1);
  if (gt !== undefined) out.sizeGreaterThan = gt;
  if (lt !== undefined) out.sizeLessThan = lt;
  if (gt !== undefined && lt !== undefined && lt <= gt) {
    throw new DomainError('InvalidRequest', 'ObjectSizeLessThan must be greater than ObjectSizeGreaterThan.');
  }
  if (!and && Object.keys(out).length + (out.tags ? Object.keys(out.tags).length - 1 : 0) > 1) {
    throw malformed('A <Filter> with more than one condition must put them in an <And>.');
  }
  return out;
}

export function parseLifecycle(xml: string): LifecycleRule[] {
  const doc = parseXml(xml, 'LifecycleConfiguration');
  const rules = list(doc, 'Rule') as Record<string, unknown>[];
  if (rules.length === 0) throw malformed('The lifecycle configuration needs at least one <Rule>.');
  if (rules.length > MAX_RULES) throw malformed(`A lifecycle configuration has at most ${MAX_RULES} rules.`);
  const ids = new Set<string>();
  return rules.map((r, i): LifecycleRule => {
    const id = text(r, 'ID') ?? `rule-${i + 1}`;
    if (id.length > 255) throw Object.assign(new DomainError('InvalidArgument', 'A rule ID is at most 255 characters.'));
    if (ids.has(id)) throw new DomainError('InvalidArgument', `Rule ID '${id}' is used twice; rule IDs must be unique.`);
    ids.add(id);
    const status = text(r, 'Status');
    if (status !== 'Enabled' && status !== 'Disabled') throw malformed(`Rule '${id}': <Status> must be Enabled or Disabled.`);
    if (r.Transition !== undefined || r.NoncurrentVersionTransition !== undefined) {
      throw new DomainError('NotImplemented', `Rule '${id}': transitions are not supported (datamesh has one storage class); use expiration actions.`);
    }
    const rule: LifecycleRule = { id, status, filter: filterOf(r) };
    const e = r.Expiration;
    if (e !== undefined) {
      const days = intOf(text(e, 'Days'), 'Days', 1);
      const date = text(e, 'Date');
      const edm = text(e, 'ExpiredObjectDeleteMarker');
      const set = [days !== undefined, date !== undefined, edm !== undefined].filter(Boolean).length;
      if (set !== 1) throw malformed(`Rule '${id}': <Expiration> takes exactly one of <Days>, <Date> or <ExpiredObjectDeleteMarker>.`);
      if (date !== undefined && Number.isNaN(new Date(date).getTime())) {
        throw new DomainError('InvalidArgument', `Rule '${id}': '${date}' is not an ISO 8601 date.`, { ArgumentName: 'Date', ArgumentValue: date });
      }
      if (edm !== undefined && edm !== 'true' && edm !== 'false') throw malformed(`Rule '${id}': ExpiredObjectDeleteMarker must be true or false.`);
      if (edm === 'true' && rule.filter.tags) {
        throw new DomainError('InvalidArgument', `Rule '${id}': ExpiredObjectDeleteMarker cannot be combined with a tag filter.`);
      }
      rule.expiration = {
        ...(days !== undefined ? { days } : {}),
        ...(date !== undefined ? { date: new Date(date) } : {}),
        ...(edm !== undefined ? { expiredObjectDeleteMarker: edm === 'true' } : {}),
      };
    }
    const n = r.NoncurrentVersionExpiration;
    if (n !== undefined) {
      const noncurrentDays = intOf(text(n, 'NoncurrentDays'), 'NoncurrentDays', 1);
      if (noncurrentDays === undefined) throw malformed(`Rule '${id}': <NoncurrentVersionExpiration> needs <NoncurrentDays>.`);
      const newer = intOf(text(n, 'NewerNoncurrentVersions'), 'NewerNoncurrentVersions', 1);
      rule.noncurrentExpiration = { noncurrentDays, ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}) };
    }
    const a = r.AbortIncompleteMultipartUpload;
    if (a !== undefined) {
      const d = intOf(text(a, 'DaysAfterInitiation'), 'DaysAfterInitiation', 1);
      if (d === undefined) throw malformed(`Rule '${id}': <AbortIncompleteMultipartUpload> needs <DaysAfterInitiation>.`);
      if (rule.filter.tags) throw new DomainError('InvalidRequest', `Rule '${id}': AbortIncompleteMultipartUpload cannot be used with a tag filter.`);
      rule.abortIncompleteDays = d;
    }
    if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteDays === undefined) {
      throw malformed(`Rule '${id}' has no action: give it Expiration, NoncurrentVersionExpiration or AbortIncompleteMultipartUpload.`);
    }
    return rule;
  });
}

function filterXml(f: LifecycleFilter): XmlObject {
  const tags = Object.entries(f.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const parts: XmlObject = {
    ...(f.prefix !== undefined ? { Prefix: f.prefix } : {}),
    ...(tags.length ? { Tag: tags } : {}),
    ...(f.sizeGreaterThan !== undefined ? { ObjectSizeGreaterThan: f.sizeGreaterThan } : {}),
    ...(f.sizeLessThan !== undefined ? { ObjectSizeLessThan: f.sizeLessThan } : {}),
  };
  const count = Object.keys(parts).length + Math.max(0, tags.length - 1);
  if (count === 0) return { Prefix: '' };
  return count > 1 ? { And: parts } : parts;
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  return xmlDocument('LifecycleConfiguration', {
    Rule: rules.map((r) => ({
      ID: r.id,
      Filter: filterXml(r.filter),
      Status: r.status,
      ...(r.expiration
        ? {
            Expiration: {
              ...(r.expiration.days !== undefined ? { Days: r.expiration.days } : {}),
              ...(r.expiration.date !== undefined ? { Date: r.expiration.date.toISOString() } : {}),
              ...(r.expiration.expiredObjectDeleteMarker !== undefined ? { ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker } : {}),
            },
          }
        : {}),
      ...(r.noncurrentExpiration
        ? {
            NoncurrentVersionExpiration: {
              NoncurrentDays: r.noncurrentExpiration.noncurrentDays,
              ...(r.noncurrentExpiration.newerNoncurrentVersions !== undefined
                ? { NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions }
                : {}),
            },
          }
        : {}),
      ...(r.abortIncompleteDays !== undefined ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortIncompleteDays } } : {}),
    })),
  });
}

export const getBucketLifecycleConfiguration: Handler<'GetBucketLifecycleConfiguration'> = ({ store, op }) => {
  const rules = store.getBucketLifecycle(op.bucket);
  if (rules.length === 0) {
    throw new DomainError('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist.', { BucketName: op.bucket });
  }
  return xmlResult(lifecycleXml(rules));
};

export const putBucketLifecycleConfiguration: Handler<'PutBucketLifecycleConfiguration'> = async ({ store, op, body }) => {
  const rules = parseLifecycle((await readSmallBody(body.putBody())).toString('utf8'));
  store.putBucketLifecycle(op.bucket, rules);
  return { status: 200 };
};

export const deleteBucketLifecycleConfiguration: Handler<'DeleteBucketLifecycleConfiguration'> = ({ store, op }) => {
  store.putBucketLifecycle(op.bucket, undefined);
  return { status: 204 };
};
