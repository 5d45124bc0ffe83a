/**
 * Running client programs: a clean environment (none of the user's AWS settings leak in), captured
 * output, an AbortSignal that kills the process, and failures that quote the command and its stderr.
 */
import { spawn } from 'node:child_process';

export class ScenarioFailure extends Error {
  override name = 'ScenarioFailure';
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Return the result on a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Written to stdin, then stdin is closed. */
  input?: string;
}

const MAX_OUTPUT = 32 * 1024 * 1024;

/** The environment for a client: the parent's without any AWS_* / proxy / CA settings, plus `extra`. */
export function clientEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|BOTO_|RCLONE_|S3CMD)/i.test(k) || /proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', ...extra };
}

/** A shell-ish rendering of a command for failure messages (secrets are never on command lines here). */
export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The last `lines` non-empty lines of a text, for error messages. */
export function tail(text: string, lines = 12): string {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n');
}

export function exec(cmd: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    const collect = (into: Buffer[]) => (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= MAX_OUTPUT) into.push(b);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const onAbort = () => child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new ScenarioFailure(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (opts.signal?.aborted) return reject(new ScenarioFailure(`${commandLine(cmd, args)}: stopped (${String(opts.signal.reason ?? 'aborted')})`));
      if (result.code !== 0 && !opts.allowFailure) {
        const why = sig ? `killed by ${sig}` : `exit code ${result.code}`;
        const detail = tail(result.stderr) || tail(result.stdout);
        return reject(new ScenarioFailure(`${commandLine(cmd, args)}: ${why}${detail ? `\n${detail}` : ''}`));
      }
      resolve(result);
    });
  });
}
