/**
 * boto3 from the machine's Python (default settings): the transfer manager's upload_file /
 * download_file over the multipart threshold, a paginated listing of 2,500 keys, the basics, and
 * generate_presigned_post. The checks live in conformance/boto3_scenarios.py.
 */
import { fileURLToPath } from 'node:url';
import { check } from '../harness/check.ts';
import { clientEnv, exec } from '../harness/exec.ts';
import type { ClientSuite, Operation, Scenario, ScenarioContext } from '../harness/types.ts';

const SCRIPT = fileURLToPath(new URL('../boto3_scenarios.py', import.meta.url));

interface BotoSetup {
  python: string;
}

async function runPython(ctx: ScenarioContext, scenario: string): Promise<void> {
  const { python } = ctx.setup as BotoSetup;
  const env = clientEnv({
    HOME: ctx.dir,
    AWS_CONFIG_FILE: `${ctx.dir}/.aws/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${ctx.dir}/.aws/credentials`,
    AWS_ACCESS_KEY_ID: ctx.target.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.target.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: ctx.target.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    DM_ENDPOINT: ctx.target.endpoint,
    DM_BUCKET: ctx.bucket(`boto3-${scenario}`),
    DM_DIR: ctx.dir,
  });
  const r = await exec(python, [SCRIPT, scenario], { env, signal: ctx.signal, allowFailure: true });
  for (const line of r.stdout.split('\n')) if (line.startsWith('NOTE: ')) ctx.note(line.slice(6));
  check(r.code === 0, `boto3 ${scenario}: ${r.stderr.trim().split('\n').slice(-8).join('\n') || `exit code ${r.code}`}`);
}

function scenario(name: string, op: Operation, py: string, opts: { also?: Operation[]; timeoutMs?: number } = {}): Scenario {
  return { name, op, ...opts, run: (ctx) => runPython(ctx, py) };
}

export const boto3Suite: ClientSuite = {
  name: 'boto3',
  async detect() {
    // The machine's python3 as the user runs it; its real path, so a scenario's HOME cannot break a pyenv shim.
    const probe = await exec('python3', ['-c', 'import sys, boto3, botocore; print(sys.executable, boto3.__version__, botocore.__version__)'], {
      env: process.env,
      allowFailure: true,
    }).catch(() => undefined);
    if (!probe || probe.code !== 0) return { missing: 'boto3 is not importable by python3: pip install boto3' };
    const [python, boto3, botocore] = probe.stdout.trim().split(/\s+/);
    return { version: `${boto3} (botocore ${botocore})`, setup: { python: python! } satisfies BotoSetup };
  },
  scenarios: [
    scenario('put_object, get_object, copy_object, delete_objects', 'put / get', 'basics', { also: ['copy', 'delete', 'head'] }),
    scenario('upload_file / download_file 20 MiB (transfer manager)', 'multipart', 'transfer', { also: ['put / get'], timeoutMs: 180_000 }),
    scenario('list_objects_v2 paginator over 2,500 keys', 'list', 'list2500', { timeoutMs: 180_000 }),
    scenario('generate_presigned_post upload', 'presigned POST', 'presigned_post'),
    scenario('versioning, list_object_versions paginator, COMPLIANCE lock, lifecycle', 'versioning', 'versions', { also: ['object lock', 'lifecycle'] }),
  ],
};
