import { describe, expect, it } from 'vitest';
import { list, parseXml, text, xmlDocument } from './xml.ts';

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
