/**
 * Console sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), the
 * session itself in server memory. A session holds the access key only; the secret stays with the
 * accounts service and is looked up for each request, so deleting or deactivating the key ends
 * every session that uses it. Each session has a CSRF token that every state-changing request must
 * carry (a form field or the X-CSRF-Token header), on top of an Origin check.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE = 'datamesh_console';

export interface Session {
  id: string;
  account: string;
  accessKey: string;
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface SessionOptions {
  /** Idle time after which a session ends (default 1 hour). */
  idleMs?: number;
  /** Longest a session lives, active or not (default 12 hours). */
  maxAgeMs?: number;
  /** Most sessions kept; the oldest go first (default 10,000). */
  maxSessions?: number;
  now?: () => number;
}

export function createSessions(o: SessionOptions = {}) {
  const idleMs = o.idleMs ?? 60 * 60 * 1000;
  const maxAgeMs = o.maxAgeMs ?? 12 * 60 * 60 * 1000;
  const maxSessions = o.maxSessions ?? 10_000;
  const now = o.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const token = (): string => randomBytes(32).toString('base64url');
  const expired = (s: Session, t: number): boolean => t - s.lastSeen > idleMs || t - s.created > maxAgeMs;

  return {
    idleMs,
    create(account: string, accessKey: string): Session {
      const t = now();
      for (const [id, s] of sessions) if (expired(s, t)) sessions.delete(id);
      while (sessions.size >= maxSessions) sessions.delete(sessions.keys().next().value!);
      const s: Session = { id: token(), account, accessKey, csrf: token(), created: t, lastSeen: t };
      sessions.set(s.id, s);
      return s;
    },
    /** The live session of this id, touched; undefined when unknown or expired. */
    get(id: string | undefined): Session | undefined {
      if (!id) return undefined;
      const s = sessions.get(id);
      if (!s) return undefined;
      const t = now();
      if (expired(s, t)) {
        sessions.delete(id);
        return undefined;
      }
      s.lastSeen = t;
      return s;
    },
    end(id: string): void {
      sessions.delete(id);
    },
    get size(): number {
      return sessions.size;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The Set-Cookie value for a session id (an empty id with Max-Age=0 clears it). */
export function sessionCookie(id: string, secure: boolean, maxAgeSeconds?: number): string {
  const parts = [`${COOKIE}=${id}`, 'Path=/console', 'HttpOnly', 'SameSite=Strict'];
  if (secure) parts.push('Secure');
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  return parts.join('; ');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
