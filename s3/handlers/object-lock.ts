/**
 * Object lock (issue 16): Get/PutObjectLockConfiguration, Get/PutObjectRetention,
 * Get/PutObjectLegalHold, and the x-amz-object-lock-* request headers of PUT, CopyObject and
 * CreateMultipartUpload. Enforcement lives in the store (src/store/store-versions.ts).
 */
import { DomainError, Errors } from '../../src/core/errors.ts';
import type { LockConfiguration, LockMode, LockSettings } from '../../src/core/object-store.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';
import { removeOptions, versionIdOf } from './versioning.ts';

function modeOf(v: string, name: string): LockMode {
  if (v !== 'GOVERNANCE' && v !== 'COMPLIANCE') throw Errors.invalidArgument(`Unknown object lock mode '${v}': use GOVERNANCE or COMPLIANCE.`, name, v);
  return v;
}

function dateOf(v: string, name: string): Date {
  const d = new Date(v);
  if (v.trim() === '' || Number.isNaN(d.getTime())) {
    throw Errors.invalidArgument(`'${v}' is not a valid ISO 8601 date (e.g. 2030-01-01T00:00:00Z).`, name, v);
  }
  return d;
}

function legalHoldOf(v: string, name: string): boolean {
  if (v !== 'ON' && v !== 'OFF') throw Errors.invalidArgument(`The legal hold status must be ON or OFF, not '${v}'.`, name, v);
  return v === 'ON';
}

/** The x-amz-object-lock-* headers of a write (undefined when none is sent). */
export function lockFromHeaders(h: Record<string, string>): LockSettings | undefined {
  const mode = h['x-amz-object-lock-mode'];
  const until = h['x-amz-object-lock-retain-until-date'];
  const hold = h['x-amz-object-lock-legal-hold'];
  if (mode === undefined && until === undefined && hold === undefined) return undefined;
  return {
    ...(mode !== undefined ? { mode: modeOf(mode, 'x-amz-object-lock-mode') } : {}),
    ...(until !== undefined ? { retainUntil: dateOf(until, 'x-amz-object-lock-retain-until-date') } : {}),
    ...(hold !== undefined ? { legalHold: legalHoldOf(hold, 'x-amz-object-lock-legal-hold') } : {}),
  };
}

export const getObjectLockConfiguration: Handler<'GetObjectLockConfiguration'> = ({ store, op }) => {
  const c = store.getObjectLockConfiguration(op.bucket);
  return xmlResult(
    xmlDocument('ObjectLockConfiguration', {
      ObjectLockEnabled: 'Enabled',
      ...(c.rule
        ? { Rule: { DefaultRetention: { Mode: c.rule.mode, ...(c.rule.days !== undefined ? { Days: c.rule.days } : { Years: c.rule.years }) } } }
        : {}),
    }),
  );
};

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new DomainError('InvalidRetentionPeriod', `${name} must be a positive integer, not '${v}'.`);
  }
  return n;
}

export const putObjectLockConfiguration: Handler<'PutObjectLockConfiguration'> = async ({ store, op, body }) => {
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'ObjectLockConfiguration');
  const enabled = text(doc, 'ObjectLockEnabled');
  if (enabled !== 'Enabled') throw new DomainError('MalformedXML', 'ObjectLockEnabled must be Enabled.');
  const conf: LockConfiguration = { enabled: true };
  const rule = (doc.Rule as Record<string, unknown> | undefined)?.DefaultRetention as Record<string, unknown> | undefined;
  if (doc.Rule !== undefined) {
    if (!rule) throw new DomainError('MalformedXML', 'A <Rule> needs a <DefaultRetention>.');
    const mode = text(rule, 'Mode');
    if (mode === undefined) throw new DomainError('MalformedXML', 'DefaultRetention needs a <Mode> (GOVERNANCE or COMPLIANCE).');
    const days = positiveInt(text(rule, 'Days'), 'Days');
    const years = positiveInt(text(rule, 'Years'), 'Years');
    if ((days === undefined) === (years === undefined)) throw new DomainError('MalformedXML', 'DefaultRetention needs exactly one of <Days> or <Years>.');
    conf.rule = { mode: modeOf(mode, 'Mode'), ...(days !== undefined ? { days } : { years: years! }) };
  }
  store.putObjectLockConfiguration(op.bucket, conf);
  return { status: 200 };
};

export const getObjectRetention: Handler<'GetObjectRetention'> = ({ store, op }) => {
  const r = store.getObjectRetention(op.bucket, op.key, versionIdOf(op.query));
  return xmlResult(xmlDocument('Retention', { Mode: r.mode, RetainUntilDate: r.retainUntil?.toISOString() }));
};

export const putObjectRetention: Handler<'PutObjectRetention'> = async (ctx) => {
  const { store, op, body } = ctx;
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'Retention');
  const mode = text(doc, 'Mode');
  const until = text(doc, 'RetainUntilDate');
  store.putObjectRetention(
    op.bucket,
    op.key,
    {
      ...(mode !== undefined && mode !== '' ? { mode: modeOf(mode, 'Mode') } : {}),
      ...(until !== undefined && until !== '' ? { retainUntil: dateOf(until, 'RetainUntilDate') } : {}),
    },
    removeOptions(ctx, versionIdOf(op.query)),
  );
  return { status: 200 };
};

export const getObjectLegalHold: Handler<'GetObjectLegalHold'> = ({ store, op }) => {
  const on = store.getObjectLegalHold(op.bucket, op.key, versionIdOf(op.query));
  return xmlResult(xmlDocument('LegalHold', { Status: on ? 'ON' : 'OFF' }));
};

export const putObjectLegalHold: Handler<'PutObjectLegalHold'> = async ({ store, op, body }) => {
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'LegalHold');
  const on = legalHoldOf(text(doc, 'Status') ?? '', 'Status');
  store.putObjectLegalHold(op.bucket, op.key, on, versionIdOf(op.query));
  return { status: 200 };
};
