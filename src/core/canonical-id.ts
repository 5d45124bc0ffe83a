/**
 * An account's canonical id, as S3 shows owners and grantees: 64 hex digits, derived from the
 * account's name, so it is stable, needs no storage and is the same on every gateway.
 */
import { createHash } from 'node:crypto';

export const canonicalIdOf = (account: string): string => createHash('sha256').update(`datamesh canonical id\0${account}`).digest('hex');
