/** Secrets on disk are the owner's only (issue 12): master.key is refused when others may read it; SQLite files are 0600. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from './master-key.ts';
import { openDatabase } from './db.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datamesh-modes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (f: string) => statSync(f).mode & 0o777;

describe('master.key', () => {
  it('is generated 0600 and loads while it stays so', () => {
    const first = loadMasterKey(dir, {});
    expect(first.generated).toBe(true);
    expect(modeOf(join(dir, 'master.key'))).toBe(0o600);
    expect(loadMasterKey(dir, {}).key.equals(first.key)).toBe(true);
  });

  it('is refused, naming the fix, when group or others may read it', () => {
    writeFileSync(join(dir, 'master.key'), 'ab'.repeat(32) + '\n');
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(join(dir, 'master.key'), mode);
      expect(() => loadMasterKey(dir, {})).toThrow(`chmod 600 ${join(dir, 'master.key')}`);
    }
    chmodSync(join(dir, 'master.key'), 0o400);
    expect(loadMasterKey(dir, {}).key.toString('hex')).toBe('ab'.repeat(32));
  });
});

describe('SQLite files', () => {
  it('are created 0600, the -wal and -shm files too, and an older 0644 database is narrowed', () => {
    const file = join(dir, 'datamesh.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, modeOf(f)]).toEqual([f, 0o600]);
    db.close();
    chmodSync(file, 0o644);
    openDatabase(file).close();
    expect(modeOf(file)).toBe(0o600);
  });
});
