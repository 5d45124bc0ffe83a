/**
 * The floors (README "Layout", rules in .dependency-cruiser.cjs): every import goes down, nothing
 * imports the roof, production never imports test support, no cycles. The second case proves the
 * rules bite: a throwaway tree with one forbidden import must be refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string, dirs: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync(BIN, [...dirs, '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

function probeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'floors-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('floors', () => {
  it('every import in the tree goes down a floor', () => {
    const r = cruise(ROOT, ['src', 's3', 'mesh', 'accounts']);
    expect(r.out).toContain('no dependency violations');
    expect(r.ok).toBe(true);
  });

  it.each([
    ['core imports the wire protocol', 'src/core/probe.ts', "import '../../s3/x.ts';\n", 's3/x.ts', 'core-imports-nothing'],
    ['s3 reaches past the ObjectStore seam', 's3/probe.ts', "import '../src/store/x.ts';\n", 'src/store/x.ts', 's3-wire-only'],
    ['the mesh imports the data path', 'mesh/probe.ts', "import '../src/data/x.ts';\n", 'src/data/x.ts', 'mesh-network-only'],
    ['accounts import the roof', 'accounts/probe.ts', "import '../src/server/x.ts';\n", 'src/server/x.ts', 'nothing-imports-the-roof'],
    ['production imports test support', 'src/store/probe.ts', "import './testing/x.ts';\n", 'src/store/testing/x.ts', 'production-never-imports-test-support'],
    ['a cycle', 'src/data/a.ts', "import './b.ts';\n", 'src/data/b.ts', 'no-circular'],
  ])('refuses %s', (_what, from, text, to, rule) => {
    const files: Record<string, string> = { [from]: text, [to]: rule === 'no-circular' ? "import './a.ts';\n" : 'export {};\n' };
    const dir = probeTree(files);
    try {
      const r = cruise(dir, ['src', 's3', 'mesh', 'accounts'].filter((d) => Object.keys(files).some((f) => f.startsWith(`${d}/`))));
      expect(r.ok).toBe(false);
      expect(r.out).toContain(rule);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
