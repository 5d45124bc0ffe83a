import { describe, expect, it } from 'vitest';
import { parseLsRecursive } from './aws-cli.ts';
import { parseS3cmdLs } from './s3cmd.ts';
import { loopbackLookup } from './sdk-common.ts';
import { multipartEtag } from './sdk-js-multipart.ts';

describe('client output parsers', () => {
  it('reads aws s3 ls --recursive, keys with spaces included', () => {
    const out = '2025-01-01 10:00:00         12 a/b.txt\n2025-01-01 10:00:01          0 with space .txt\n\n';
    expect([...parseLsRecursive(out)]).toEqual([
      ['a/b.txt', 12],
      ['with space .txt', 0],
    ]);
  });

  it('reads s3cmd ls objects and DIR lines relative to the bucket', () => {
    const out = [
      '                          DIR  s3://bk/dir1/',
      '2025-01-01 10:00          1  s3://bk/a.txt',
      '2025-01-01 10:00         42  s3://bk/d/e f.txt',
      '2025-01-01 10:00          3  s3://other/x',
    ].join('\n');
    const { objects, dirs } = parseS3cmdLs(out, 'bk');
    expect(dirs).toEqual(['dir1/']);
    expect([...objects]).toEqual([
      ['a.txt', 1],
      ['d/e f.txt', 42],
    ]);
  });
});

describe('multipartEtag', () => {
  it('is the md5 of the binary part MD5s with the part count', () => {
    // Two parts whose MD5s are those of "a" and "b"; md5(0cc175…‖92eb5f…) computed independently.
    expect(multipartEtag(['0cc175b9c0f1b6a831c399e269772661', '92eb5ffee6ae2fec3ad71c777531578f'])).toBe('"96e024ba2074fe77e8e965ba43a704be-2"');
  });
});

describe('loopbackLookup', () => {
  const lookup = loopbackLookup('s3.localtest');
  const ask = (host: string, options: object) =>
    new Promise<unknown[]>((resolve) => (lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)(host, options, (...a) => resolve(a)));

  it('resolves the domain and its subdomains to 127.0.0.1, nothing else', async () => {
    expect(await ask('bucket.s3.localtest', {})).toEqual([null, '127.0.0.1', 4]);
    expect(await ask('S3.LOCALTEST', { all: true })).toEqual([null, [{ address: '127.0.0.1', family: 4 }]]);
    const [err] = await ask('example.com', {});
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});
