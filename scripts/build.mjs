#!/usr/bin/env node
// `npm run build` (and `prepare`, which `npm ci` and `npm pack` run): compiles the server to dist/
// with tsc (tsconfig.build.json: src, s3, mesh, accounts; no tests, no testing/ folders) and copies
// the plain JavaScript modules tsc does not emit (the codec worker and its core, *.mjs) beside the
// compiled files, so `new URL('./codec-worker.mjs', import.meta.url)` resolves in dist/ too.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
/** Development-only modules that stay out of the package (the tsx entry). */
const DEV_ONLY = new Set(['src/server/cli/datamesh.mjs']);

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('build: tsc failed (above); nothing was written to dist/\n');
  rmSync(dist, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

function* modules(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'testing' && e.name !== 'node_modules') yield* modules(p);
    } else if (e.name.endsWith('.mjs') && !e.name.endsWith('.test.mjs')) yield p;
  }
}
for (const top of ['src', 's3', 'mesh', 'accounts']) {
  for (const file of modules(join(root, top))) {
    const rel = relative(root, file);
    if (DEV_ONLY.has(rel)) continue;
    mkdirSync(dirname(join(dist, rel)), { recursive: true });
    copyFileSync(file, join(dist, rel));
  }
}
chmodSync(join(dist, 'src/server/cli/bin.js'), 0o755);
