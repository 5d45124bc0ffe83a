/**
 * The node's master secret: from DATAMESH_MASTER_KEY (64 hex chars or base64 of 32 bytes) or
 * generated on first start into DIR/master.key (mode 0600). Every other key is derived from it
 * with HKDF-SHA256 under a purpose label, so the master secret itself never encrypts anything.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new Error('the master key must be 32 bytes, written as 64 hex characters or base64: generate one with `openssl rand -hex 32`');
  }
  return key;
}

/** Loads the master key (env first, then DIR/master.key), generating the file on first start. */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): { key: Buffer; generated: boolean } {
  if (env.DATAMESH_MASTER_KEY) return { key: parseMasterKey(env.DATAMESH_MASTER_KEY), generated: false };
  const file = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    checkPrivate(file);
    return { key: parseMasterKey(readFileSync(file, 'utf8')), generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, generated: true };
}

/**
 * Refuses a key file that group or others may read or write, as ssh refuses an unprotected private
 * key: whoever reads master.key reads every object of this node.
 */
export function checkPrivate(file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `${file} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); it holds the key to every object of this node. Run \`chmod 600 ${file}\` and start again.`,
    );
  }
}

/** A 32-byte key for one purpose ("kek/v1", "account-secrets/v1"...), derived from the master key. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `datamesh ${purpose}`, 32));
}
