import { describe, expect, it } from 'vitest';
import { lifecycleXml, parseLifecycle } from './lifecycle.ts';

const doc = (rules: string) => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`;
const codeOf = (xml: string) => {
  try {
    parseLifecycle(xml);
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('lifecycle configuration XML', () => {
  it('parses every supported action and filter and renders them back', () => {
    const rules = parseLifecycle(
      doc(`
      <Rule><ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter>
        <Status>Enabled</Status><Expiration><Days>3</Days></Expiration>
        <NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>5</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
      <Rule><ID>b</ID><Filter><Prefix></Prefix></Filter><Status>Disabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
        <AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
      <Rule><ID>c</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>`),
    );
    expect(rules).toEqual([
      {
        id: 'a',
        status: 'Enabled',
        filter: { prefix: 'logs/', tags: { t: '1' }, sizeGreaterThan: 10 },
        expiration: { days: 3 },
        noncurrentExpiration: { noncurrentDays: 2, newerNoncurrentVersions: 5 },
      },
      { id: 'b', status: 'Disabled', filter: {}, expiration: { expiredObjectDeleteMarker: true }, abortIncompleteDays: 1 },
      { id: 'c', status: 'Enabled', filter: { prefix: 'old/' }, expiration: { date: new Date('2030-01-01T00:00:00Z') } },
    ]);
    expect(parseLifecycle(lifecycleXml(rules))).toEqual(rules);
  });

  it.each([
    ['no rule', doc(''), 'MalformedXML'],
    ['no action', doc('<Rule><ID>x</ID><Filter/><Status>Enabled</Status></Rule>'), 'MalformedXML'],
    ['bad status', doc('<Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>'), 'MalformedXML'],
    ['days and date', doc('<Rule><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>'), 'MalformedXML'],
    ['zero days', doc('<Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>'), 'InvalidArgument'],
    ['two conditions without And', doc('<Rule><Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'), 'MalformedXML'],
    ['duplicate ids', doc('<Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>'), 'InvalidArgument'],
    ['transition', doc('<Rule><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>'), 'NotImplemented'],
    ['abort with a tag filter', doc('<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>'), 'InvalidRequest'],
    ['not XML', 'nope', 'MalformedXML'],
  ])('%s: %s', (_name, xml, code) => {
    expect(codeOf(xml)).toBe(code);
  });
});
