/**
 * Access key ids, secrets, and their encryption at rest. Secrets are sealed with AES-256-GCM under
 * a key derived from the node's master secret (purpose 'account-secrets/v1'); the access key id is
 * the associated data, so a sealed secret cannot be moved to another key. Pure functions.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../src/core/master-key.ts';

export const SECRETS_PURPOSE = 'account-secrets/v1';
const FORMAT_V1 = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The key that seals account secrets, derived from the master key. */
export const secretsKey = (masterKey: Buffer): Buffer => deriveKey(masterKey, SECRETS_PURPOSE);

/** A new access key id: 20 characters A-Z0-9 starting with 'DM'. */
export function generateAccessKey(): string {
  let id = 'DM';
  while (id.length < 20) id += ACCESS_KEY_ALPHABET[randomInt(ACCESS_KEY_ALPHABET.length)];
  return id;
}

/** A new secret access key: 40 characters of base64 (240 random bits). */
export const generateSecret = (): string => randomBytes(30).toString('base64');

const aad = (accessKey: string): Buffer => Buffer.from(`datamesh account-secret v1 ${accessKey}`, 'utf8');

/** Seals a secret for storage: [version 1][nonce 12][ciphertext][tag 16]. A fresh random nonce each time. */
export function sealSecret(key: Buffer, accessKey: string, secret: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(accessKey));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), nonce, ct, cipher.getAuthTag()]);
}

/** Opens a sealed secret. Throws if it was sealed under another master key or for another access key. */
export function openSecret(key: Buffer, accessKey: string, sealed: Uint8Array): string {
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buf.length < 1 + NONCE_BYTES + TAG_BYTES || buf[0] !== FORMAT_V1) {
    throw new Error(`the stored secret of access key ${accessKey} is not in a known format; recreate the key`);
  }
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const ct = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad(accessKey));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(
      `cannot decrypt the secret of access key ${accessKey}: the master key (DATAMESH_MASTER_KEY or DIR/master.key) is not the one it was stored under; start with the original master key`,
    );
  }
}

/** Constant-time string comparison. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Access key ids people may bring (env root credentials): 3-128 characters A-Z a-z 0-9. */
export const isValidAccessKey = (s: string): boolean => /^[A-Za-z0-9]{3,128}$/.test(s);
/** Secrets people may bring: 8-128 printable ASCII characters without spaces. */
export const isValidSecret = (s: string): boolean => /^[\x21-\x7e]{8,128}$/.test(s);
