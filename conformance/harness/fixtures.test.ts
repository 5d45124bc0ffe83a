import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MiB, dataChunks, dataStream, digestFile, digestOf, readTree, treeDigests, writeDataFile, writeTree } from './fixtures.ts';

describe('generated data', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('is deterministic per seed, exactly sized, in chunks of at most 1 MiB', async () => {
    const sizes: number[] = [];
    for await (const c of dataChunks(2 * MiB + 5, 'a')) sizes.push(c.length);
    expect(sizes).toEqual([MiB, MiB, 5]);
    const a1 = await digestOf(dataChunks(1000, 'a'));
    const a2 = await digestOf(dataChunks(1000, 'a'));
    const b = await digestOf(dataChunks(1000, 'b'));
    expect(a1).toEqual(a2);
    expect(a1.sha256).not.toBe(b.sha256);
    expect(a1.bytes).toBe(1000);
  });

  it('streams with a digest of what was read, and files match', async () => {
    dir = mkdtempSync(join(tmpdir(), 'conformance-fixtures-'));
    const { stream, digest } = dataStream(3 * MiB + 1, 'x');
    const read = await digestOf(stream);
    expect(await digest).toEqual(read);
    const written = await writeDataFile(join(dir, 'sub', 'f.bin'), 3 * MiB + 1, 'x');
    expect(written).toEqual(read);
    expect(await digestFile(join(dir, 'sub', 'f.bin'))).toEqual(read);
  });

  it('writes trees that read back as their spec', async () => {
    dir = mkdtempSync(join(tmpdir(), 'conformance-fixtures-'));
    const spec = { 'a.txt': 'a', 'd/e f.txt': 'ef', 'd/g.bin': { size: 5000, seed: 'g' } };
    await writeTree(dir, spec);
    const tree = await readTree(dir);
    expect([...tree.keys()]).toEqual(['a.txt', 'd/e f.txt', 'd/g.bin']);
    expect(tree).toEqual(await treeDigests(spec));
  });
});
