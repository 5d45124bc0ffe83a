/**
 * XML in and out, in one place (fast-xml-parser). Responses are built from plain objects: arrays
 * become repeated elements, undefined fields are left out. Request bodies are parsed with a size
 * limit and always as strings (no number guessing: an ETag of digits stays a string).
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { Errors, DomainError } from '../src/core/errors.ts';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** The largest XML request body accepted (DeleteObjects with 1000 long keys fits). */
export const MAX_XML_BODY = 2 * 1024 * 1024;

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: false, processEntities: true });

export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[];
export interface XmlObject {
  [k: string]: XmlValue;
}

function clean(v: XmlValue): XmlValue {
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const out: XmlObject = {};
    for (const [k, val] of Object.entries(v)) if (val !== undefined && val !== null) out[k] = clean(val);
    return out;
  }
  return v;
}

/** `<?xml ...?><Root xmlns=...>...</Root>`; pass ns=false for the Error document (S3 sends none). */
export function xmlDocument(root: string, body: XmlObject, ns: boolean = root !== 'Error'): string {
  const content = clean(body) as XmlObject;
  const rootNode = ns ? { '@xmlns': S3_NS, ...content } : content;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ [root]: rootNode });
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // numeric references such as &#34; (Go's encoder writes ETag quotes so: rclone)
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => ['Part', 'Object', 'Tag', 'CORSRule'].includes(name),
});

/** Parses an XML request body; anything malformed or with the wrong root is MalformedXML. */
export function parseXml(text: string, root: string): Record<string, unknown> {
  if (text.trim() === '') throw new DomainError('MalformedXML', `The request body is empty; expected a <${root}> XML document.`);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch (e) {
    throw new DomainError('MalformedXML', `The XML you provided was not well-formed: ${(e as Error).message.split('\n')[0]}`);
  }
  const node = doc[root];
  if (node === undefined) throw new DomainError('MalformedXML', `The XML you provided did not have the expected root element <${root}>.`);
  if (node === '' || node === null) return {};
  if (typeof node !== 'object') throw new DomainError('MalformedXML', `<${root}> must contain elements.`);
  return node as Record<string, unknown>;
}

/** Reads a small request body (XML) with the size limit. */
export async function readSmallBody(source: AsyncIterable<Uint8Array>, limit = MAX_XML_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > limit) throw Errors.invalidRequest(`The XML request body is larger than ${limit} bytes; send a smaller document.`);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

/** A child element as text ('' when empty, undefined when absent). */
export const text = (node: unknown, name: string): string | undefined => {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return Array.isArray(v) ? String(v[0] ?? '') : '';
  return String(v);
};

export const list = (node: unknown, name: string): unknown[] => {
  if (!node || typeof node !== 'object') return [];
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
};
