/** Loopback addresses: a listen host (`--listen`) or a client's socket address. */
import { isIP } from 'node:net';

/** True for what only this machine can reach: localhost, ::1, 127.0.0.0/8 (also IPv4-mapped, ::ffff:127.x). */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
