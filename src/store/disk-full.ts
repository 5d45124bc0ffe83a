/**
 * The catalog's file system filling up (SQLite's SQLITE_FULL, or ENOSPC) reaches the client as a
 * DiskFullError (503 SlowDown naming the cause) instead of an InternalError. SQLite rolls the
 * transaction back, so nothing is half-committed; the next request after space returns succeeds.
 */
import { diskFull } from '../core/errors.ts';

/** `target` with every method's errors (thrown or rejected) mapped by diskFull(err, where). */
export function mapDiskFull<T extends object>(target: T, where: string): T {
  const map = (e: unknown): unknown => diskFull(e, where) ?? e;
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let r: unknown;
        try {
          r = (value as (...a: unknown[]) => unknown).apply(t, args);
        } catch (e) {
          throw map(e);
        }
        return r instanceof Promise ? r.catch((e: unknown) => Promise.reject(map(e))) : r;
      };
    },
  });
}
