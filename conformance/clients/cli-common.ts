/**
 * Finding command-line clients: every `NAME` on PATH (like `which -a`), with pyenv shims resolved to
 * the real script so a changed HOME in the scenario's environment cannot break them.
 */
import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { clientEnv, exec } from '../harness/exec.ts';

/** All executables called `name` on PATH, first match first, without duplicates (by real path). */
export async function whichAll(name: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
    } catch {
      continue;
    }
    let resolved = p;
    if (p.includes('/shims/')) {
      // pyenv: ask it for the real script (the shim needs $HOME/.pyenv, which scenarios replace).
      const r = await exec('pyenv', ['which', name], { env: process.env, allowFailure: true }).catch(() => undefined);
      if (!r || r.code !== 0) continue;
      resolved = r.stdout.trim();
    }
    const real = await realpath(resolved).catch(() => resolved);
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(resolved);
  }
  return out;
}

/** `bin args…` output (stdout, else stderr), first line; undefined when it cannot run. */
export async function versionLine(bin: string, args: string[]): Promise<string | undefined> {
  const r = await exec(bin, args, { env: clientEnv({}), allowFailure: true }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  return (r.stdout.trim() || r.stderr.trim()).split('\n')[0];
}
