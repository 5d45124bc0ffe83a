/**
 * CORS for buckets, as S3 does it: a CORSConfiguration of up to 100 rules; a preflight OPTIONS is
 * answered by the first rule that matches its Origin, method and requested headers (403 when none
 * does); an actual request with an Origin gets the matching rule's headers. Pure.
 */
import { DomainError } from '../../src/core/errors.ts';
import { list, parseXml, text, type XmlObject } from '../xml.ts';

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
const malformed = (why: string) => new DomainError('MalformedXML', `The CORS configuration is not valid: ${why}`);

const wildcard = (pattern: string, value: string, caseInsensitive: boolean): boolean => {
  const star = pattern.indexOf('*');
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  if (star < 0) return p === v;
  return v.length >= p.length - 1 && v.startsWith(p.slice(0, star)) && v.endsWith(p.slice(star + 1));
};

/** Parses and validates a PutBucketCors body. */
export function parseCors(xml: string): CorsRule[] {
  const doc = parseXml(xml, 'CORSConfiguration');
  const rules = list(doc, 'CORSRule');
  if (rules.length === 0) throw malformed('it needs at least one CORSRule.');
  if (rules.length > 100) throw malformed('it can have at most 100 CORSRules.');
  return rules.map((r, i): CorsRule => {
    const strings = (name: string) => list(r, name).map((v) => (typeof v === 'string' ? v : String(text({ v }, 'v') ?? '')));
    const allowedOrigins = strings('AllowedOrigin');
    const allowedMethods = strings('AllowedMethod');
    const allowedHeaders = strings('AllowedHeader');
    if (allowedOrigins.length === 0) throw malformed(`CORSRule ${i + 1} needs an AllowedOrigin.`);
    if (allowedMethods.length === 0) throw malformed(`CORSRule ${i + 1} needs an AllowedMethod.`);
    for (const m of allowedMethods) {
      if (!METHODS.has(m)) throw new DomainError('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of allowedOrigins) if (o.split('*').length > 2) throw new DomainError('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
    for (const h of allowedHeaders) if (h.split('*').length > 2) throw new DomainError('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
    const maxAge = text(r, 'MaxAgeSeconds');
    if (maxAge !== undefined && !/^\d+$/.test(maxAge)) throw malformed(`MaxAgeSeconds must be a whole number of seconds, not ${maxAge}.`);
    const id = text(r, 'ID');
    return {
      ...(id ? { id } : {}),
      allowedOrigins,
      allowedMethods,
      allowedHeaders,
      exposeHeaders: strings('ExposeHeader'),
      ...(maxAge !== undefined ? { maxAgeSeconds: Number(maxAge) } : {}),
    };
  });
}

export function corsXml(rules: CorsRule[]): XmlObject {
  return {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders.length ? r.allowedHeaders : undefined,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders.length ? r.exposeHeaders : undefined,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  };
}

/** The first rule allowing this origin, method and (for a preflight) these request headers. */
export function matchCors(rules: readonly CorsRule[], origin: string, method: string, requestHeaders: readonly string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcard(o, origin, false)) &&
      r.allowedMethods.includes(method) &&
      requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcard(a, h, true))),
  );
}

/** The Access-Control-* headers for a matched rule (preflight adds the allowed methods, headers and max age). */
export function corsHeaders(rule: CorsRule, origin: string, preflight?: { method: string; headers: readonly string[] }): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : origin,
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) h['Access-Control-Allow-Credentials'] = 'true';
  if (preflight) {
    h['Access-Control-Allow-Methods'] = rule.allowedMethods.join(', ');
    if (preflight.headers.length) h['Access-Control-Allow-Headers'] = preflight.headers.join(', ');
    if (rule.maxAgeSeconds !== undefined) h['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  } else if (rule.exposeHeaders.length) {
    h['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  }
  return h;
}

/** Access-Control-Request-Headers: "a, B" -> ["a", "b"]. */
export const requestedHeaders = (value: string | undefined): string[] =>
  (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
