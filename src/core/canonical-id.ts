/**
 * An account's canonical id, as S3 shows owners and grantees: 64 hex digits, derived from the
 * account's name, so it is stable, needs no storage and is the same on every gateway.
 */
import { createHash } from 'node:crypto';

const remembered = new Map<string, string>();

/** An account's canonical id, remembered (every S3 request asks for its caller's and its bucket owner's). */
export function canonicalIdOf(account: string): string {
  let id = remembered.get(account);
  if (id === undefined) {
    if (remembered.size >= 10_000) remembered.clear();
    remembered.set(account, (id = createHash('sha256').update(`datamesh canonical id\0${account}`).digest('hex')));
  }
  return id;
}
