import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../src/server/cli/index.ts';
import { fixture, setBytes, startAdminServer, type Fixture } from './testing/helpers.ts';

const GiB = 2 ** 30;
let f: Fixture;
let server: { url: string; close(): Promise<void> };

beforeEach(async () => {
  f = fixture({ defaults: { maxBuckets: 100 } });
  server = await startAdminServer(f.accounts);
});
afterEach(async () => {
  await server.close();
  f.cleanup();
});

/** Runs `datamesh admin ...` with the root credentials file of the fixture unless env says otherwise. */
async function admin(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runAdmin([...args, '--endpoint', server.url, '--data', f.dir], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

describe('datamesh admin', () => {
  it('user create prints the new key once, exactly as JSON, with quota flags applied', async () => {
    const r = await admin(['user', 'create', 'alice', '--max-storage', '5GiB', '--max-objects', '10000', '--max-monthly-transfer', '50GiB', '--max-buckets', 'none', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const k = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(k)).toEqual(['name', 'accessKeyId', 'secretAccessKey']);
    expect(k.name).toBe('alice');
    expect(f.accounts.lookup(k.accessKeyId!)).toEqual({ secret: k.secretAccessKey, account: 'alice' });
    expect(f.accounts.limits('alice')).toEqual({ maxStorage: 5 * GiB, maxObjects: 10_000, maxUploads: 1000 });
    expect(f.accounts.getQuota('alice').maxMonthlyTransfer.limit).toBe(50 * GiB);

    const text = await admin(['user', 'create', 'bob', '--admin']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Created account 'bob'/);
    expect(text.stdout).toMatch(/Secret access key:\s+\S{40}/);
    expect(f.accounts.isAdmin('bob')).toBe(true);
  });

  it('lists and shows users as tables or JSON', async () => {
    await admin(['user', 'create', 'alice']);
    setBytes(f, 'alice', 3 * 2 ** 20, 2);
    const list = await admin(['user', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ROLE\s+STATUS\s+KEYS\s+STORAGE\s+OBJECTS\s+BUCKETS\s+CREATED$/);
    expect(lines[1]).toMatch(/^alice\s+user\s+active\s+1\s+3 MiB\s+1\s+2\s+2025-05-10/);
    expect(lines[2]).toMatch(/^root\s+admin\s+active/);
    const json = JSON.parse((await admin(['user', 'list', '--json'])).stdout) as Array<{ name: string }>;
    expect(json.map((u) => u.name)).toEqual(['alice', 'root']);
    const info = await admin(['user', 'info', 'alice']);
    expect(info.stdout).toMatch(/Status:\s+active/);
    expect(info.stdout).toMatch(/max-buckets\s+100\s+default/);
    expect(info.stdout).toMatch(/max-storage\s+none\s+default/);
    expect(info.stdout).toMatch(/ACCESS KEY ID\s+STATUS\s+CREATED\nDM[A-Z0-9]{18}\s+active/);
  });

  it('sets quotas: sizes, none lifts, default restores', async () => {
    await admin(['user', 'create', 'alice']);
    const r = await admin(['quota', 'set', 'alice', '--max-storage', '1.5TB', '--max-object-size', '500MB', '--max-buckets', 'none']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/max-storage\s+1\.4 TiB \(1500000000000 B\)\s+set on the account/);
    expect(f.accounts.limits('alice')).toEqual({ maxStorage: 1.5e12, maxObjectSize: 500e6, maxUploads: 1000 });
    await admin(['quota', 'set', 'alice', '--max-buckets', 'default', '--max-requests-per-minute', '600']);
    expect(f.accounts.limits('alice')).toEqual({ maxStorage: 1.5e12, maxObjectSize: 500e6, maxBuckets: 100, maxUploads: 1000 });
    expect(f.accounts.getQuota('alice').maxRequestsPerMinute.limit).toBe(600);
    const show = JSON.parse((await admin(['quota', 'show', 'alice', '--json'])).stdout) as { quota: Record<string, { limit: number }> };
    expect(show.quota.maxRequestsPerMinute!.limit).toBe(600);
  });

  it('rotates keys with key create / list / delete', async () => {
    const first = JSON.parse((await admin(['user', 'create', 'alice', '--json'])).stdout) as { accessKeyId: string };
    const second = JSON.parse((await admin(['key', 'create', 'alice', '--json'])).stdout) as Record<string, string>;
    expect(Object.keys(second)).toEqual(['name', 'accessKeyId', 'secretAccessKey']);
    const list = await admin(['key', 'list', 'alice']);
    expect(list.stdout).toContain(first.accessKeyId);
    expect(list.stdout).toContain(second.accessKeyId);
    const del = await admin(['key', 'delete', 'alice', first.accessKeyId]);
    expect(del).toMatchObject({ code: 0, stdout: `Access key ${first.accessKeyId} of 'alice' deleted.\n` });
    expect(f.accounts.lookup(first.accessKeyId)).toBeUndefined();
    expect(f.accounts.lookup(second.accessKeyId!)?.account).toBe('alice');
    const again = await admin(['key', 'delete', 'alice', first.accessKeyId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has no access key .*NoSuchAccessKey, HTTP 404/);
  });

  it('suspends, resumes and deletes; deleting an account with buckets says why', async () => {
    await admin(['user', 'create', 'alice']);
    expect((await admin(['user', 'suspend', 'alice'])).stdout).toBe("Account 'alice' is now suspended.\n");
    expect(() => f.accounts.admit('alice', 'read')).toThrow(/suspended/);
    expect((await admin(['user', 'resume', 'alice'])).stdout).toBe("Account 'alice' is now active.\n");
    setBytes(f, 'alice', 1, 1);
    const no = await admin(['user', 'delete', 'alice']);
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/^datamesh admin: account 'alice' still owns 1 bucket: delete them .*\(AccountHasBuckets, HTTP 409\)\n$/);
    setBytes(f, 'alice', 0, 0);
    expect(await admin(['user', 'delete', 'alice', '--json'])).toMatchObject({ code: 0, stdout: '{\n  "deleted": "alice"\n}\n' });
  });

  it('shows usage by month', async () => {
    await admin(['user', 'create', 'alice']);
    f.accounts.admit('alice', 'write');
    f.accounts.recordTransfer('alice', { ingress: 2048 });
    const r = await admin(['usage', 'alice']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ACCOUNT\s+MONTH\s+STORAGE NOW/);
    expect(r.stdout).toMatch(/alice\s+2025-05\s+0 B\s+0 B-h\s+2 KiB\s+0 B\s+1\s+0/);
    const json = JSON.parse((await admin(['usage', '--month', '2025-04', '--json'])).stdout) as { month: string; usage: unknown[] };
    expect(json.month).toBe('2025-04');
    expect(json.usage).toHaveLength(2);
  });

  it('uses DATAMESH_ACCESS_KEY first: a non-admin key is refused by the server', async () => {
    const k = JSON.parse((await admin(['user', 'create', 'alice', '--json'])).stdout) as { accessKeyId: string; secretAccessKey: string };
    const r = await admin(['user', 'list'], { DATAMESH_ACCESS_KEY: k.accessKeyId, DATAMESH_SECRET_KEY: k.secretAccessKey });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not one\. Use the root credentials\. \(AccessDenied, HTTP 403\)/);
    const root = f.accounts.bootstrap();
    const ok = await admin(['user', 'list'], { DATAMESH_ROOT_ACCESS_KEY: root.accessKey, DATAMESH_ROOT_SECRET_KEY: root.secretKey });
    expect(ok.code).toBe(0);
  });

  it('answers bad invocations with one line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['user', 'create', 'alice', '--max-storage', '5XB'], /--max-storage: '5XB' has an unknown unit 'XB'/],
      [['user', 'create', 'alice', '--max-objects', '1.5'], /--max-objects: '1.5' is not a whole number/],
      [['quota', 'set', 'alice'], /needs at least one quota flag/],
      [['user', 'list', '--max-storage', '1GiB'], /option --max-storage does not apply to 'datamesh admin user list'/],
      [['user', 'frobnicate'], /unknown command 'admin user frobnicate'/],
      [['bogus'], /unknown command 'admin bogus'/],
      [[], /'datamesh admin' needs a command: one of info, scrub/],
      [['user', 'info'], /'datamesh admin user info' takes NAME/],
      [['user', 'list', 'extra'], /unexpected argument 'extra'/],
      [['key', 'delete', 'alice'], /takes NAME ACCESS_KEY/],
      [['usage', '--month', '2025-5'], /--month '2025-5' is not a month/],
      [['user', 'list', '--colour'], /unknown option --colour: run 'datamesh admin --help'/],
      [['user', 'list', '--endpoint'], /option --endpoint needs a value/],
    ];
    for (const [args, message] of cases) {
      const r = await admin(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('says how to fix missing credentials and an unreachable server', async () => {
    let stderr = '';
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, env: {} };
    expect(await runAdmin(['user', 'list', '--data', '/nonexistent-dir'], io)).toBe(2);
    expect(stderr).toMatch(/no admin credentials: set DATAMESH_ACCESS_KEY/);
    stderr = '';
    await server.close();
    const r = await admin(['user', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the datamesh server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it with 'datamesh serve'/);
  });

  it('prints help', async () => {
    const r = await admin(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/datamesh admin user create NAME +create an account/);
    const create = await admin(['user', 'create', '--help']);
    expect(create).toMatchObject({ code: 0, stderr: '' });
    expect(create.stdout).toMatch(/--max-storage SIZE/);
  });
});
