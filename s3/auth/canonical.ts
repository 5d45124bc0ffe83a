/**
 * The SigV4 canonical request, as pure functions over the raw request parts.
 *
 * S3 signs the path as it was sent (no double encoding, no normalisation), so the first candidate
 * for the canonical URI is the raw path, with only characters that a signer would have had to
 * encode (anything outside A-Za-z0-9-._~ and '/', '%XX') encoded. The strict candidate decodes each
 * segment and re-encodes it per the SigV4 rules, for clients that send something else than they
 * signed (lower-case hex, '!', '$'...). Query names and values are always decoded and re-encoded.
 */

const HEX = '0123456789ABCDEF';
const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

const isUnreservedCode = (code: number): boolean => code < 128 && UNRESERVED[code] === 1;
const isHexCode = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);

/** SigV4 URI encoding of bytes: unreserved characters as they are, everything else %XX (upper case). */
export function encodeBytes(bytes: Uint8Array, keepSlash = false): string {
  let out = '';
  for (const b of bytes) {
    if (isUnreservedCode(b) || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** SigV4 URI encoding of a string's UTF-8 bytes. */
export const uriEncode = (s: string, keepSlash = false): string => encodeBytes(Buffer.from(s, 'utf8'), keepSlash);

const PERCENT = /%[0-9A-Fa-f]{2}/g;

/**
 * Percent-decodes to bytes, leniently: a '%' not followed by two hex digits stays literal, and
 * bytes that are not valid UTF-8 survive (the result is bytes, not a string).
 */
export function percentDecode(s: string, plusIsSpace: boolean): Buffer {
  const text = (t: string): Buffer => Buffer.from(plusIsSpace ? t.replaceAll('+', ' ') : t, 'utf8');
  if (!s.includes('%')) return text(s);
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of s.matchAll(PERCENT)) {
    if (m.index > last) parts.push(text(s.slice(last, m.index)));
    parts.push(Buffer.of(parseInt(m[0].slice(1), 16)));
    last = m.index + 3;
  }
  if (last < s.length) parts.push(text(s.slice(last)));
  return Buffer.concat(parts);
}

/** The raw path with only what a signer must have encoded encoded; valid %XX kept as sent. */
export function canonicalUriAsSent(rawPath: string): string {
  if (rawPath === '') return '/';
  let out = '';
  let i = 0;
  while (i < rawPath.length) {
    const code = rawPath.charCodeAt(i);
    if (isUnreservedCode(code) || code === 0x2f) {
      out += rawPath[i];
      i++;
    } else if (code === 0x25 && isHexCode(rawPath.charCodeAt(i + 1)) && isHexCode(rawPath.charCodeAt(i + 2))) {
      out += rawPath.slice(i, i + 3);
      i += 3;
    } else {
      const cp = rawPath.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out += uriEncode(ch);
      i += ch.length;
    }
  }
  return out;
}

/** Each path segment decoded and re-encoded strictly ('/' separates segments; %2F stays encoded). */
export function canonicalUriStrict(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((seg) => encodeBytes(percentDecode(seg, false)))
    .join('/');
}

/** The canonical URI candidates to try, most likely first, without duplicates. */
export function canonicalUris(rawPath: string): string[] {
  const asSent = canonicalUriAsSent(rawPath);
  const strict = canonicalUriStrict(rawPath);
  return asSent === strict ? [asSent] : [asSent, strict];
}

export interface QueryParam {
  /** Decoded name and value (UTF-8). */
  name: string;
  value: string;
  /** SigV4-encoded name and value. */
  encodedName: string;
  encodedValue: string;
}

/** Splits a raw query string into decoded and SigV4-re-encoded parameters. */
export function parseQuery(rawQuery: string, plusIsSpace = true): QueryParam[] {
  const out: QueryParam[] = [];
  if (rawQuery === '') return out;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const nameBytes = percentDecode(eq === -1 ? pair : pair.slice(0, eq), plusIsSpace);
    const valueBytes = percentDecode(eq === -1 ? '' : pair.slice(eq + 1), plusIsSpace);
    out.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: encodeBytes(nameBytes),
      encodedValue: encodeBytes(valueBytes),
    });
  }
  return out;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical query string: encoded pairs sorted by name then value, `name=` for empty values. */
export function canonicalQuery(params: readonly QueryParam[], exclude?: (p: QueryParam) => boolean): string {
  return params
    .filter((p) => !exclude?.(p))
    .map((p) => [p.encodedName, p.encodedValue] as const)
    .sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

/** The canonical query candidates: '+' as a space (form encoding), then '+' as itself if it occurs. */
export function canonicalQueries(rawQuery: string, exclude?: (p: QueryParam) => boolean): string[] {
  const first = canonicalQuery(parseQuery(rawQuery, true), exclude);
  if (!rawQuery.includes('+')) return [first];
  const second = canonicalQuery(parseQuery(rawQuery, false), exclude);
  return second === first ? [first] : [first, second];
}

/**
 * A header value as the client wrote it: Node reads header bytes as Latin-1, so UTF-8 sent raw
 * (x-amz-meta-* with accents, by curl or older tools) arrives as mojibake; it is read back as
 * UTF-8 when it is valid UTF-8. Signatures cover, and metadata keeps, the characters meant.
 */
export function headerText(v: string): string {
  if (!/[\x80-\xff]/.test(v) || /[^\x00-\xff]/.test(v)) return v;
  const bytes = Buffer.from(v, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : v;
}

/** A header value as SigV4 canonicalises it: trimmed, inner runs of whitespace collapsed to one space. */
export const canonicalHeaderValue = (v: string): string => headerText(v).trim().replace(/\s+/g, ' ');

/** The canonical headers block: one `name:value\n` line per signed header, in the signed order. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(headers[name.toLowerCase()] ?? '')}\n`;
  return out;
}

export interface CanonicalParts {
  method: string;
  uri: string;
  query: string;
  /** From canonicalHeaders(): every line ends with '\n'. */
  headers: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export const canonicalRequest = (p: CanonicalParts): string =>
  `${p.method}\n${p.uri}\n${p.query}\n${p.headers}\n${p.signedHeaders.join(';')}\n${p.payloadHash}`;
