/**
 * The root account: an admin account named 'root' that always exists. Its key comes from the
 * environment (DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY) or, on first start without
 * them, is generated and written to DIR/root-credentials.json (mode 0600) so the operator can
 * read it; `generated` tells the caller to print it once.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Errors } from '../src/core/errors.ts';
import { AccountErrors } from './errors.ts';
import type { Repo } from './repo.ts';
import { generateAccessKey, generateSecret, isValidAccessKey, isValidSecret, openSecret, sameSecret, sealSecret } from './secrets.ts';

export const ROOT_ACCOUNT = 'root';
export const ROOT_CREDENTIALS_FILE = 'root-credentials.json';

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
  /** True when this start generated the key: print it once. */
  generated: boolean;
}

/** The JSON written to DIR/root-credentials.json (the same shape `user create --json` prints). */
export interface CredentialsFile {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function readCredentialsFile(dataDir: string): CredentialsFile | undefined {
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw Errors.invalidArgument(`${file} is not valid JSON: delete it and set DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY`);
  }
  const p = parsed as Partial<CredentialsFile>;
  if (typeof p.accessKeyId !== 'string' || typeof p.secretAccessKey !== 'string') {
    throw Errors.invalidArgument(`${file} lacks accessKeyId / secretAccessKey: delete it and set DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY`);
  }
  return { name: p.name ?? ROOT_ACCOUNT, accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey };
}

function writeCredentialsFile(dataDir: string, creds: CredentialsFile): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export interface BootstrapInput {
  repo: Repo;
  sealKey: Buffer;
  dataDir: string;
  root?: { accessKey: string; secretKey: string };
  created: string;
}

/** Makes sure the root account and a usable root key exist (one transaction) and returns that key. */
export function bootstrapRoot({ repo, sealKey, dataDir, root, created }: BootstrapInput): RootCredentials {
  if (root) {
    if (!isValidAccessKey(root.accessKey)) {
      throw Errors.invalidArgument('DATAMESH_ROOT_ACCESS_KEY must be 3 to 128 characters A-Z, a-z, 0-9');
    }
    if (!isValidSecret(root.secretKey)) {
      throw Errors.invalidArgument('DATAMESH_ROOT_SECRET_KEY must be 8 to 128 printable characters without spaces');
    }
  }
  return repo.tx(() => {
    let account = repo.accountByName(ROOT_ACCOUNT);
    if (!account) account = repo.insertAccount(ROOT_ACCOUNT, 'admin', created);
    if (account.role !== 'admin') repo.setRole(account.id, 'admin');
    if (account.status !== 'active') repo.setStatus(account.id, 'active');
    const ensureKey = (accessKey: string, secret: string): void => {
      const existing = repo.key(accessKey);
      if (existing && existing.accountId !== account.id) throw AccountErrors.accessKeyTaken(accessKey, existing.account);
      if (!existing) repo.insertKey(accessKey, account.id, sealSecret(sealKey, accessKey, secret), created);
      else if (existing.status !== 'active' || !sameSecret(openSecret(sealKey, accessKey, existing.sealed), secret)) {
        repo.updateKey(accessKey, sealSecret(sealKey, accessKey, secret), 'active');
      }
    };
    if (root) {
      ensureKey(root.accessKey, root.secretKey);
      return { accessKey: root.accessKey, secretKey: root.secretKey, generated: false };
    }
    const file = readCredentialsFile(dataDir);
    if (file) {
      ensureKey(file.accessKeyId, file.secretAccessKey);
      return { accessKey: file.accessKeyId, secretKey: file.secretAccessKey, generated: false };
    }
    const stored = repo.keysOf(account.id).find((k) => k.status === 'active');
    if (stored) {
      return { accessKey: stored.accessKey, secretKey: openSecret(sealKey, stored.accessKey, stored.sealed), generated: false };
    }
    const accessKey = generateAccessKey();
    const secretKey = generateSecret();
    repo.insertKey(accessKey, account.id, sealSecret(sealKey, accessKey, secretKey), created);
    writeCredentialsFile(dataDir, { name: ROOT_ACCOUNT, accessKeyId: accessKey, secretAccessKey: secretKey });
    return { accessKey, secretKey, generated: true };
  });
}
