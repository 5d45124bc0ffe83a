/**
 * The condition operators of the IAM policy language as S3 bucket policies use them
 * (docs: "IAM JSON policy elements: Condition operators"). Pure functions over strings.
 *
 * A condition block is { Operator: { Key: value | [values] } }. Within one operator every key must
 * match; within one key any value may match (the negated operators: none may match). `...IfExists`
 * matches when the key is absent; `ForAnyValue:` / `ForAllValues:` compare multi-valued keys.
 */
import { isIP } from 'node:net';

/** The request's condition keys: lower-cased names, each one or more values; absent keys are missing. */
export type ConditionContext = ReadonlyMap<string, readonly string[]>;

type Compare = (actual: string, expected: string) => boolean;

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    's',
  );

const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));
const date = (s: string): number => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const parts = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(Number.parseInt(p || '0', 16)), 0n);
}

/** Does `ip` fall inside `cidr` ("203.0.113.0/24", "2001:db8::/32" or a bare address)? */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/') as [string, string | undefined];
  let addr = ip;
  // an IPv4 client seen through an IPv6 socket
  if (addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4) addr = addr.slice(7);
  const family = isIP(base);
  if (family === 0 || isIP(addr) !== family) return false;
  const width = family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return false;
  const toInt = family === 4 ? ipv4ToBigInt : ipv6ToBigInt;
  const shift = BigInt(width - bits);
  return toInt(addr) >> shift === toInt(base) >> shift;
}

/** Validates a CIDR the way a policy is checked when it is put (MalformedPolicy otherwise). */
export function isValidCidr(cidr: string): boolean {
  const [base, bitsText] = cidr.split('/') as [string, string | undefined];
  const family = isIP(base);
  if (family === 0) return false;
  if (bitsText === undefined) return true;
  const bits = Number(bitsText);
  return /^\d+$/.test(bitsText) && bits <= (family === 4 ? 32 : 128);
}

interface Operator {
  compare: Compare;
  /** The Not operators: the condition holds when no value matches. */
  negated?: boolean;
}

const OPERATORS: Record<string, Operator> = {
  StringEquals: { compare: (a, e) => a === e },
  StringNotEquals: { compare: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { compare: (a, e) => a.toLowerCase() === e.toLowerCase() },
  StringNotEqualsIgnoreCase: { compare: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  StringLike: { compare: (a, e) => globToRegExp(e).test(a) },
  StringNotLike: { compare: (a, e) => globToRegExp(e).test(a), negated: true },
  NumericEquals: { compare: (a, e) => num(a) === num(e) },
  NumericNotEquals: { compare: (a, e) => num(a) === num(e), negated: true },
  NumericLessThan: { compare: (a, e) => num(a) < num(e) },
  NumericLessThanEquals: { compare: (a, e) => num(a) <= num(e) },
  NumericGreaterThan: { compare: (a, e) => num(a) > num(e) },
  NumericGreaterThanEquals: { compare: (a, e) => num(a) >= num(e) },
  DateEquals: { compare: (a, e) => date(a) === date(e) },
  DateNotEquals: { compare: (a, e) => date(a) === date(e), negated: true },
  DateLessThan: { compare: (a, e) => date(a) < date(e) },
  DateLessThanEquals: { compare: (a, e) => date(a) <= date(e) },
  DateGreaterThan: { compare: (a, e) => date(a) > date(e) },
  DateGreaterThanEquals: { compare: (a, e) => date(a) >= date(e) },
  Bool: { compare: (a, e) => a.toLowerCase() === e.toLowerCase() },
  IpAddress: { compare: (a, e) => ipInCidr(a, e) },
  NotIpAddress: { compare: (a, e) => ipInCidr(a, e), negated: true },
  ArnEquals: { compare: (a, e) => a === e },
  ArnLike: { compare: (a, e) => globToRegExp(e).test(a) },
  ArnNotEquals: { compare: (a, e) => a === e, negated: true },
  ArnNotLike: { compare: (a, e) => globToRegExp(e).test(a), negated: true },
};

export interface ParsedOperator {
  name: string;
  base: string;
  ifExists: boolean;
  set?: 'ForAnyValue' | 'ForAllValues';
}

/** "ForAnyValue:StringLikeIfExists" -> its parts, or undefined for an unknown operator. */
export function parseOperator(text: string): ParsedOperator | undefined {
  let rest = text;
  let set: ParsedOperator['set'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon);
    if (prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') return undefined;
    set = prefix;
    rest = rest.slice(colon + 1);
  }
  if (rest === 'Null') return set ? undefined : { name: text, base: 'Null', ifExists: false };
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (!(base in OPERATORS)) return undefined;
  return { name: text, base, ifExists, set };
}

/** Does one operator's condition hold for one key? */
export function conditionHolds(op: ParsedOperator, key: string, expected: readonly string[], ctx: ConditionContext): boolean {
  const actual = ctx.get(key.toLowerCase());
  if (op.base === 'Null') {
    // {"Null": {"k": "true"}}: holds when k is absent; "false": when present
    const wantAbsent = expected.some((e) => e.toLowerCase() === 'true');
    return wantAbsent ? actual === undefined : actual !== undefined;
  }
  const operator = OPERATORS[op.base]!;
  if (actual === undefined || actual.length === 0) {
    if (op.ifExists) return true;
    if (op.set === 'ForAllValues') return true; // vacuously
    // a negated operator on a missing key holds (nothing matches), as AWS evaluates it
    return operator.negated === true && op.set === undefined;
  }
  const matchOne = (a: string): boolean => expected.some((e) => operator.compare(a, e));
  if (op.set === 'ForAllValues') {
    return actual.every((a) => (operator.negated ? !matchOne(a) : matchOne(a)));
  }
  if (op.set === 'ForAnyValue') {
    return actual.some((a) => (operator.negated ? !matchOne(a) : matchOne(a)));
  }
  const any = actual.some(matchOne);
  return operator.negated ? !any : any;
}
