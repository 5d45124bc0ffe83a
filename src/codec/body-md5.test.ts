import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { CodecPool } from './codec-pool.ts';
import { BATCH_BYTES } from './body-md5.ts';
import { createPutBody } from '../core/digest.ts';
import { useBodyMd5 } from '../core/digest.ts';

const workers = new CodecPool({ workers: 2 });
const inline = new CodecPool({ workers: 0 });
afterAll(async () => {
  useBodyMd5(undefined);
  await workers.close();
});

async function* chunks(data: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let off = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    // a reused buffer, as a socket's or a lent reader's: the MD5 must have taken the bytes before the next chunk
    const c = Buffer.from(data.subarray(off, off + n));
    yield c;
    c.fill(0xee);
    off += n;
  }
}

describe('a request body MD5 in a codec worker', () => {
  it('gives the MD5 of the body whatever its size and chunking, in a worker and inline', async () => {
    for (const pool of [workers, inline]) {
      for (const size of [0, 1, 1000, BATCH_BYTES - 1, BATCH_BYTES, BATCH_BYTES + 1, 5 * BATCH_BYTES + 12345]) {
        const data = randomBytes(size);
        const md5 = pool.md5();
        for await (const c of chunks(data, [65536, 7, 3 * BATCH_BYTES, 1 << 20])) {
          const wait = md5.update(c);
          if (wait) await wait;
        }
        expect((await md5.digest()).toString('hex'), `size ${size}`).toBe(createHash('md5').update(data).digest('hex'));
      }
    }
  });

  it('serves createPutBody: the ETag is right and a wrong Content-MD5 is still refused', async () => {
    useBodyMd5(() => workers.md5());
    const data = randomBytes(3 * BATCH_BYTES + 99);
    const good = createHash('md5').update(data).digest();
    const body = createPutBody(chunks(data, [65536]), { expectedMd5: good.toString('base64'), expectedSize: data.length });
    for await (const _ of body);
    expect(body.digests().md5.equals(good)).toBe(true);
    const bad = createPutBody(chunks(data, [65536]), { expectedMd5: createHash('md5').update('x').digest('base64') });
    await expect(async () => {
      for await (const _ of bad);
    }).rejects.toMatchObject({ code: 'BadDigest' });
  });

  it('forgets an abandoned body (no digest) and goes on serving others', async () => {
    const md5 = workers.md5();
    for (let i = 0; i < 3; i++) await md5.update(randomBytes(BATCH_BYTES));
    md5.dispose();
    const again = workers.md5();
    const data = randomBytes(2 * BATCH_BYTES);
    await again.update(data);
    expect((await again.digest()).equals(createHash('md5').update(data).digest())).toBe(true);
  });
});
