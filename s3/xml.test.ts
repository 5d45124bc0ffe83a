import { describe, expect, it } from 'vitest';
import { XMLBuilder } from 'fast-xml-parser';
import { list, parseXml, S3_NS, text, xmlDocument, type XmlObject, type XmlValue } from './xml.ts';

describe('request XML', () => {
  it('decodes numeric character references (Go clients such as rclone write ETag quotes as &#34;)', () => {
    const doc = parseXml(
      '<CompleteMultipartUpload><Part><ETag>&#34;5a34d22da6d25072027c6be4a2b0294c&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
      'CompleteMultipartUpload',
    );
    expect(text(list(doc, 'Part')[0], 'ETag')).toBe('"5a34d22da6d25072027c6be4a2b0294c"');
    expect(text(list(parseXml('<Delete><Object><Key>a&#x26;b &amp; c</Key></Object></Delete>', 'Delete'), 'Object')[0], 'Key')).toBe('a&b & c');
  });

  it('keeps digit-only values as strings and refuses the wrong root or broken XML', () => {
    const tag = list(parseXml('<Tagging><TagSet><Tag><Key>007</Key><Value>1e3</Value></Tag></TagSet></Tagging>', 'Tagging').TagSet, 'Tag')[0];
    expect(text(tag, 'Key')).toBe('007');
    expect(text(tag, 'Value')).toBe('1e3');
    expect(() => parseXml('<Other/>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => parseXml('<Delete><Object>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => parseXml('', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });
});

describe('response XML', () => {
  it('writes the S3 namespace, escapes text and leaves out undefined fields', () => {
    const x = xmlDocument('ListBucketResult', { Name: 'b', Prefix: 'a<b&c', Marker: undefined, Contents: [{ Key: 'k1' }, { Key: 'k2' }] });
    expect(x).toContain('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    expect(x).toContain('<Prefix>a&lt;b&amp;c</Prefix>');
    expect(x).not.toContain('Marker');
    expect(x).toContain('<Contents><Key>k1</Key></Contents><Contents><Key>k2</Key></Contents>');
    expect(xmlDocument('Error', { Code: 'X' })).toContain('<Error><Code>X</Code></Error>');
  });
});

describe('request XML limits', () => {
  const objects = (n: number, keyLength = 10) =>
    '<Delete>' + Array.from({ length: n }, (_, i) => `<Object><Key>${String(i).padEnd(keyLength, 'k')}</Key></Object>`).join('') + '</Delete>';
  const parts = (n: number) =>
    '<CompleteMultipartUpload>' +
    Array.from({ length: n }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`).join('') +
    '</CompleteMultipartUpload>';

  it('parses the largest legitimate documents and refuses one element more', () => {
    expect(list(parseXml(objects(1000, 1024), 'Delete'), 'Object')).toHaveLength(1000);
    expect(() => parseXml(objects(1001), 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML', message: expect.stringContaining('1000') }));
    expect(list(parseXml(parts(10000), 'CompleteMultipartUpload'), 'Part')).toHaveLength(10000);
    expect(() => parseXml(parts(10001), 'CompleteMultipartUpload')).toThrow(expect.objectContaining({ message: expect.stringContaining('10000') }));
  });

  it('reads namespaces, CDATA, comments, self-closing and repeated elements; refuses DOCTYPE and mismatched tags', () => {
    const doc = parseXml(
      '<?xml version="1.0"?><!-- c --><s3:Delete xmlns:s3="x"><s3:Quiet>true</s3:Quiet><Object><Key><![CDATA[a&amp;<b>]]>&amp;c</Key><VersionId/></Object></s3:Delete>',
      'Delete',
    );
    expect(text(doc, 'Quiet')).toBe('true');
    expect(text(list(doc, 'Object')[0], 'Key')).toBe('a&amp;<b>&c');
    expect(text(list(doc, 'Object')[0], 'VersionId')).toBe('');
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><Delete/>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => parseXml('<Delete><Object></Delete></Object>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => parseXml('<Delete></Delete><Delete></Delete>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
    expect(() => parseXml('<Delete>' + '<a>'.repeat(100) + '</a>'.repeat(100) + '</Delete>', 'Delete')).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });
});

describe('response XML', () => {
  it('is byte for byte what fast-xml-parser\'s builder wrote before (entities, attributes, #text, arrays, empty and left-out fields)', () => {
    const reference = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: false, processEntities: true });
    const clean = (v: XmlValue): XmlValue =>
      Array.isArray(v) ? v.map(clean) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== null).map(([k, x]) => [k, clean(x)])) : v;
    const docs: XmlObject[] = [
      { A: 'a&b<c>d\'e"f', B: '', C: {}, D: [1, 2], E: true, F: [], G: [{ H: 1, U: undefined }, { H: 2 }], I: { '@t': 'v&"', '#text': 'txt<' }, J: 0, L: '&amp;', N: null, Z: false, U: 'ünï😀 ' },
      { '#text': '' },
      { '#text': 'eu-west-1' },
      { Grant: [{ Grantee: { '@xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', '@xsi:type': 'CanonicalUser', ID: 'x', DisplayName: 'y' }, Permission: 'READ' }] },
    ];
    for (const d of docs) {
      for (const ns of [true, false]) {
        const before = '<?xml version="1.0" encoding="UTF-8"?>\n' + reference.build({ R: clean(ns ? { '@xmlns': S3_NS, ...d } : d) });
        expect(xmlDocument('R', d, ns)).toBe(before);
      }
    }
  });
});
