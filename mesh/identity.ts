/**
 * The persistent identity of a mesh peer: an Ed25519 private key kept in DIR/peer.key
 * (libp2p protobuf encoding, mode 0600), so a restarted process has the same peer id and its
 * peers (and the manifests that name it) still find it.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Errors } from '../src/core/errors.ts';

export const PEER_KEY_FILE = 'peer.key';

/** Loads DIR/peer.key, or creates it (0600) the first time. */
export async function loadOrCreatePeerKey(dir: string): Promise<PrivateKey> {
  const file = join(dir, PEER_KEY_FILE);
  const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) await chmod(file, 0o600);
    try {
      return privateKeyFromProtobuf(new Uint8Array(existing));
    } catch (err) {
      throw Errors.internal(
        `The mesh identity ${file} is not a libp2p private key (${(err as Error).message}). Restore it from a backup, or delete it to start this peer with a new peer id (its shards will then be found again only through the DHT).`,
      );
    }
  }
  await mkdir(dir, { recursive: true });
  const key = await generateKeyPair('Ed25519');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, file);
  return key;
}

/** The peer id (string) of a private key. */
export const peerIdOf = (key: PrivateKey): string => peerIdFromPrivateKey(key).toString();

/** Whether `s` is a libp2p peer id (12D3KooW..., Qm...). */
export function isPeerId(s: string): boolean {
  if (!/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(s)) return false;
  try {
    peerIdFromString(s);
    return true;
  } catch {
    return false;
  }
}
