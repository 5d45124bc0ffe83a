/**
 * Reading S3's request documents (Delete, CompleteMultipartUpload, Tagging,
 * CreateBucketConfiguration): a small XML reader in one linear pass. A general parser took ~1 s of
 * event loop for a legitimate 10000-part CompleteMultipartUpload on these machines; this one takes
 * milliseconds, and stops at the first element over its document's limit (1000 <Object>, 10000
 * <Part>...) instead of building the whole tree first.
 *
 * What it reads: elements (a namespace prefix is dropped), attributes (ignored), text with the five
 * named entities and numeric references, CDATA, comments and the XML declaration. What it refuses
 * (MalformedXML): a DOCTYPE (no entity expansion, ever), mismatched or unclosed tags, elements
 * nested deeper than 32, anything after the root. The result has the shape the handlers read with
 * text() and list(): an element with children is an object (a repeated child becomes an array), a
 * leaf is its text.
 */
import { DomainError } from '../src/core/errors.ts';

export type XmlNode = string | XmlTree | XmlNode[];
export interface XmlTree {
  [name: string]: XmlNode;
}

export interface ReadLimits {
  /** Per element name: how many of them the document may hold. */
  maxElements?: Record<string, number>;
  /** Names that are always arrays, even when there is one. */
  arrays?: readonly string[];
}

const MAX_DEPTH = 32;
const malformed = (detail: string): DomainError => new DomainError('MalformedXML', `The XML you provided was not well-formed: ${detail}`);

const NAMED = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);
const DEC = /^[0-9]{1,7}$/;
const HEX = /^[0-9a-fA-F]{1,6}$/;

/** One entity's text (without & and ;), or undefined when it is not one (then it stays literal). */
function entity(e: string): string | undefined {
  if (e.charCodeAt(0) !== 35) return NAMED.get(e); // not '#'
  const hex = e[1] === 'x';
  const digits = e.slice(hex ? 2 : 1);
  if (!(hex ? HEX : DEC).test(digits)) return undefined;
  const cp = parseInt(digits, hex ? 16 : 10);
  return cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
}

function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  const parts: string[] = [];
  let last = 0;
  while (amp >= 0) {
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0) break;
    const rep = semi - amp <= 10 ? entity(s.slice(amp + 1, semi)) : undefined;
    if (rep === undefined) {
      amp = s.indexOf('&', amp + 1);
      continue;
    }
    parts.push(s.slice(last, amp), rep);
    last = semi + 1;
    amp = s.indexOf('&', last);
  }
  parts.push(s.slice(last));
  return parts.join('');
}

interface Open {
  name: string;
  qname: string;
  children: XmlTree | undefined;
  text: string;
}

/** The local name of a qualified name (s3:Key -> Key). */
const local = (qname: string): string => {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
};

/** Parses a whole document; returns the root's name and its content. Throws MalformedXML or the limit's error. */
export function readXmlDocument(xml: string, limits: ReadLimits = {}, tooMany?: (name: string, max: number) => DomainError): { root: string; node: XmlNode } {
  if (xml.includes('\u0000') || xml.includes('\u0001')) throw malformed('control characters are not allowed in XML.');
  const counts = new Map<string, number>();
  const arrays = new Set(limits.arrays ?? []);
  const stack: Open[] = [];
  let root: { root: string; node: XmlNode } | undefined;
  let i = 0;
  const n = xml.length;

  const add = (parent: Open, name: string, value: XmlNode): void => {
    parent.children ??= {};
    const existing = parent.children[name];
    // Values are strings or objects, so an array here is one this function made.
    if (existing === undefined) parent.children[name] = arrays.has(name) ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else parent.children[name] = [existing, value];
  };

  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const t = xml.slice(i, textEnd);
      if (stack.length > 0) stack[stack.length - 1]!.text += t;
      else if (t.trim() !== '') throw malformed('text outside the root element.');
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end < 0) throw malformed('an unclosed comment.');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end < 0 || stack.length === 0) throw malformed('a misplaced or unclosed CDATA section.');
      // Kept apart from entity decoding: marked with a sentinel pair the decoder never produces.
      stack[stack.length - 1]!.text += '\u0000' + xml.slice(lt + 9, end) + '\u0001';
      i = end + 3;
    } else if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) throw malformed('an unclosed processing instruction.');
      i = end + 2;
    } else if (xml.startsWith('<!', lt)) {
      throw malformed('DOCTYPE and other declarations are not accepted.');
    } else {
      const gt = xml.indexOf('>', lt + 1);
      if (gt < 0) throw malformed('an unclosed tag.');
      i = gt + 1;
      if (xml[lt + 1] === '/') {
        const qname = xml.slice(lt + 2, gt).trim();
        const open = stack.pop();
        if (!open || open.qname !== qname) throw malformed(`</${qname}> does not close ${open ? `<${open.qname}>` : 'any element'}.`);
        const value: XmlNode = open.children ?? leafText(open.text);
        if (stack.length === 0) root = { root: open.name, node: value };
        else add(stack[stack.length - 1]!, open.name, value);
        continue;
      }
      const selfClosing = xml[gt - 1] === '/';
      const inner = xml.slice(lt + 1, selfClosing ? gt - 1 : gt);
      const m = /^[^\s/>]+/.exec(inner);
      if (!m) throw malformed('a tag without a name.');
      const qname = m[0];
      const name = local(qname);
      if (root !== undefined) throw malformed('elements after the root element.');
      const count = (counts.get(name) ?? 0) + 1;
      counts.set(name, count);
      const max = limits.maxElements?.[name];
      if (max !== undefined && count > max) throw tooMany ? tooMany(name, max) : malformed(`more than ${max} <${name}> elements.`);
      if (selfClosing) {
        if (stack.length === 0) root = { root: name, node: '' };
        else add(stack[stack.length - 1]!, name, '');
        continue;
      }
      if (stack.length >= MAX_DEPTH) throw malformed(`elements nested deeper than ${MAX_DEPTH}.`);
      stack.push({ name, qname, children: undefined, text: '' });
    }
  }
  if (stack.length > 0) throw malformed(`<${stack[stack.length - 1]!.qname}> is never closed.`);
  if (root === undefined) throw malformed('no root element.');
  return root;
}

/** A leaf's text: entities decoded outside CDATA sections (marked \0...\1 while reading). */
function leafText(raw: string): string {
  if (!raw.includes('\u0000')) return decodeEntities(raw);
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf('\u0000', i);
    if (start < 0) {
      out += decodeEntities(raw.slice(i));
      break;
    }
    out += decodeEntities(raw.slice(i, start));
    const end = raw.indexOf('\u0001', start);
    out += raw.slice(start + 1, end);
    i = end + 1;
  }
  return out;
}
