/**
 * Bucket policies: the IAM policy language as S3 uses it, parsed once when a policy is put
 * (MalformedPolicy with the reason otherwise) and evaluated for every request. Evaluation follows
 * AWS: a matching Deny wins over any Allow; without a matching Allow the policy says nothing and the
 * ACLs decide. Pure: no I/O, no clock (the request carries aws:CurrentTime).
 */
import { DomainError } from '../../src/core/errors.ts';
import { conditionHolds, isValidCidr, parseOperator, type ConditionContext, type ParsedOperator } from './conditions.ts';

/** Who is asking: an account (by name and canonical id) or nobody (an unsigned request). */
export type Principal = { kind: 'anonymous' } | { kind: 'account'; name: string; canonicalId: string };

interface PrincipalSpec {
  everyone: boolean;
  /** Account names or canonical ids, matched exactly. */
  ids: Set<string>;
}

interface Condition {
  op: ParsedOperator;
  key: string;
  values: string[];
}

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  actions?: RegExp[];
  notActions?: RegExp[];
  resources?: RegExp[];
  notResources?: RegExp[];
  conditions: Condition[];
  /** The statement as written, for the public-policy check. */
  raw: Record<string, unknown>;
}

export interface Policy {
  version: string;
  statements: Statement[];
}

export interface PolicyRequest {
  principal: Principal;
  /** "s3:GetObject" */
  action: string;
  /** "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key" */
  resource: string;
  conditions: ConditionContext;
}

export type PolicyVerdict = 'allow' | 'deny' | 'none';

/** Policies are at most 20 KiB, as in S3. */
export const MAX_POLICY_BYTES = 20 * 1024;

const malformed = (reason: string): DomainError => new DomainError('MalformedPolicy', reason);

const pattern = (text: string, caseInsensitive: boolean): RegExp =>
  new RegExp(`^${text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, caseInsensitive ? 'is' : 's');

const asList = (v: unknown, what: string): string[] => {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) throw malformed(`${what} must be a string or a list of strings`);
  return list as string[];
};

/** "arn:aws:iam::NAME:root", "arn:aws:iam::NAME:user/X", "NAME" or a canonical id -> the account it names. */
function accountOf(text: string): string {
  const m = /^arn:aws:iam::([^:]+):(?:root|user\/.+)$/.exec(text);
  if (m) return m[1]!;
  if (text.startsWith('arn:')) throw malformed(`Invalid principal in policy: ${text}`);
  return text;
}

function parsePrincipal(v: unknown, what: string): PrincipalSpec {
  if (v === '*') return { everyone: true, ids: new Set() };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`Invalid principal in policy: ${what} must be "*" or an object`);
  const spec: PrincipalSpec = { everyone: false, ids: new Set() };
  for (const [kind, value] of Object.entries(v)) {
    if (kind !== 'AWS' && kind !== 'CanonicalUser') throw malformed(`Invalid principal in policy: unsupported principal type ${kind}`);
    for (const id of asList(value, `${what}.${kind}`)) {
      if (id === '*') spec.everyone = true;
      else spec.ids.add(kind === 'AWS' ? accountOf(id) : id);
    }
  }
  return spec;
}

function parseActions(v: unknown, what: string): RegExp[] {
  return asList(v, what).map((a) => {
    if (a !== '*' && !/^s3:[A-Za-z*?]+$/.test(a)) throw malformed(`Policy has invalid action: ${a}`);
    return pattern(a, true);
  });
}

function parseResources(v: unknown, what: string, bucket: string): RegExp[] {
  return asList(v, what).map((r) => {
    if (r === '*') return pattern(r, false);
    const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
    if (!m) throw malformed(`Policy has invalid resource: ${r}`);
    // every resource must name this bucket (a wildcard may cover it)
    if (!pattern(m[1]!, false).test(bucket)) throw malformed(`Policy has invalid resource: ${r} is not in bucket ${bucket}`);
    return pattern(r, false);
  });
}

function parseConditions(v: unknown): Condition[] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('Condition must be an object');
  const out: Condition[] = [];
  for (const [opText, block] of Object.entries(v)) {
    const op = parseOperator(opText);
    if (!op) throw malformed(`Invalid Condition type : ${opText}`);
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed(`Condition ${opText} must map keys to values`);
    for (const [key, raw] of Object.entries(block)) {
      const values = (Array.isArray(raw) ? raw : [raw]).map((x) => (typeof x === 'boolean' || typeof x === 'number' ? String(x) : x));
      if (values.some((x) => typeof x !== 'string')) throw malformed(`Condition ${opText} ${key}: values must be strings`);
      if ((op.base === 'IpAddress' || op.base === 'NotIpAddress') && !values.every((x) => isValidCidr(x as string)))
        throw malformed(`Invalid IP address in condition ${opText} ${key}: ${values.join(', ')}`);
      if (op.base.startsWith('Date') && values.some((x) => Number.isNaN(Date.parse(x as string)) && !/^\d+$/.test(x as string)))
        throw malformed(`Invalid date in condition ${opText} ${key}: ${values.join(', ')}`);
      out.push({ op, key, values: values as string[] });
    }
  }
  return out;
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** Parses and validates a bucket policy document for `bucket`; throws MalformedPolicy naming the problem. */
export function parsePolicy(text: string, bucket: string): Policy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformed(`Policies must be at most ${MAX_POLICY_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Policies must be valid JSON and the first byte must be \'{\'');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('Policies must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== 'Version' && k !== 'Statement' && k !== 'Id') throw malformed(`Unknown field ${k}`);
  const version = d.Version === undefined ? '2008-10-17' : d.Version;
  if (version !== '2012-10-17' && version !== '2008-10-17') throw malformed(`The policy must contain a valid version string: ${String(version)}`);
  if (d.Statement === undefined) throw malformed('Missing required field Statement');
  const list = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (list.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  const statements = list.map((s, i): Statement => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw malformed(`Statement ${i} must be an object`);
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) if (!STATEMENT_KEYS.has(k)) throw malformed(`Unknown field ${k}`);
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed(`Invalid effect: ${String(st.Effect)}`);
    if ((st.Principal === undefined) === (st.NotPrincipal === undefined)) throw malformed('Statement must contain exactly one of Principal and NotPrincipal');
    if ((st.Action === undefined) === (st.NotAction === undefined)) throw malformed('Missing required field Action');
    if ((st.Resource === undefined) === (st.NotResource === undefined)) throw malformed('Missing required field Resource');
    return {
      sid: typeof st.Sid === 'string' ? st.Sid : undefined,
      effect: st.Effect,
      principal: st.Principal === undefined ? undefined : parsePrincipal(st.Principal, 'Principal'),
      notPrincipal: st.NotPrincipal === undefined ? undefined : parsePrincipal(st.NotPrincipal, 'NotPrincipal'),
      actions: st.Action === undefined ? undefined : parseActions(st.Action, 'Action'),
      notActions: st.NotAction === undefined ? undefined : parseActions(st.NotAction, 'NotAction'),
      resources: st.Resource === undefined ? undefined : parseResources(st.Resource, 'Resource', bucket),
      notResources: st.NotResource === undefined ? undefined : parseResources(st.NotResource, 'NotResource', bucket),
      conditions: parseConditions(st.Condition),
      raw: st,
    };
  });
  return { version: version as string, statements };
}

function principalMatches(spec: PrincipalSpec, p: Principal): boolean {
  if (spec.everyone) return true;
  return p.kind === 'account' && (spec.ids.has(p.name) || spec.ids.has(p.canonicalId));
}

function statementApplies(s: Statement, r: PolicyRequest): boolean {
  if (s.principal && !principalMatches(s.principal, r.principal)) return false;
  if (s.notPrincipal && principalMatches(s.notPrincipal, r.principal)) return false;
  if (s.actions && !s.actions.some((a) => a.test(r.action))) return false;
  if (s.notActions && s.notActions.some((a) => a.test(r.action))) return false;
  if (s.resources && !s.resources.some((x) => x.test(r.resource))) return false;
  if (s.notResources && s.notResources.some((x) => x.test(r.resource))) return false;
  return s.conditions.every((c) => conditionHolds(c.op, c.key, c.values, r.conditions));
}

/** AWS's order: any matching Deny -> deny; else any matching Allow -> allow; else none. */
export function evaluatePolicy(policy: Policy, r: PolicyRequest, opts: { ignorePublic?: boolean } = {}): PolicyVerdict {
  let allowed = false;
  for (const s of policy.statements) {
    if (!statementApplies(s, r)) continue;
    if (s.effect === 'Deny') return 'deny';
    // RestrictPublicBuckets: a public statement grants nothing to anyone outside the owner
    if (opts.ignorePublic && isPublicStatement(s)) continue;
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/** Condition keys that tie a statement to fixed callers (AWS's "The meaning of public"). */
const NARROWING_KEYS = new Set(['aws:sourceip', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceaccount', 'aws:sourceowner', 'aws:principalaccount', 'aws:principalorgid', 'aws:principalarn', 'aws:userid', 'aws:username', 's3:dataaccesspointaccount']);

function isPublicStatement(s: Statement): boolean {
  if (s.effect !== 'Allow') return false;
  const open = (s.principal?.everyone ?? false) || s.notPrincipal !== undefined;
  if (!open) return false;
  return !s.conditions.some((c) => {
    if (!NARROWING_KEYS.has(c.key.toLowerCase()) || c.op.ifExists || c.op.base.startsWith('Not') || c.op.base.includes('Not')) return false;
    if (c.op.base === 'IpAddress') return c.values.every((v) => !v.includes('/') || Number(v.split('/')[1]) >= 8);
    return !c.values.some((v) => v.includes('*'));
  });
}

/** GetBucketPolicyStatus: does the policy grant anything to everyone? */
export const isPublicPolicy = (policy: Policy): boolean => policy.statements.some(isPublicStatement);
