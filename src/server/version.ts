/**
 * The package's name and version, read once from its package.json: the sources run from the
 * repository (src/server/) and the compiled package from dist/src/server/, so the file is found by
 * walking up from this module rather than by a fixed relative path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const p = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageInfo>;
      if (p.name === 'datamesh' && typeof p.version === 'string') return (cached = { name: p.name, version: p.version });
    }
    const up = dirname(dir);
    if (up === dir) return (cached = { name: 'datamesh', version: '0.0.0-unknown' });
    dir = up;
  }
}
