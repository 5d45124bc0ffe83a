/**
 * Sizes, durations and counts as people write them, one syntax for every flag, environment
 * variable, configuration key and admin command: sizes "5GiB", "500MB", "1.5TB", "1048576"
 * (binary units KiB, MiB, GiB, TiB, PiB are powers of 1024, SI units KB, MB, GB, TB, PB powers of
 * 1000; any case; a bare number is bytes; a lone "M" or "Ki" is refused as ambiguous), durations
 * "500ms", "30s", "10m", "1h", "1d" (a bare number is seconds). Pure functions; errors are plain
 * messages that name the problem and the fix.
 */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

export class SizeError extends Error {}

/** Parses a size into bytes. Throws SizeError with a message that shows the accepted forms. */
export function parseSize(text: string): number {
  const t = text.trim().replace(/_/g, '');
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(t);
  if (!m) {
    throw new SizeError(`'${text}' is not a size: use bytes or a unit such as 4MiB, 500MB, 5GiB, 1.5TB`);
  }
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : UNITS[unit];
  if (factor === undefined) {
    throw new SizeError(
      `'${text}' has an unknown unit '${m[2]}': use B, KB, MB, GB, TB, PB (powers of 1000) or KiB, MiB, GiB, TiB, PiB (powers of 1024)`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new SizeError(`'${text}' is too large: the largest size is 8 PiB`);
  return bytes;
}

/** Parses a duration into milliseconds: "500ms", "30s", "10m", "1.5h", "1d"; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new SizeError(`'${text}' is not a duration: use e.g. 500ms, 30s, 10m, 1h`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Math.round(Number(m[1]) * mult);
}

/** Parses a non-negative whole number ("10000", "10_000", "10,000"). */
export function parseCount(text: string): number {
  const t = text.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(t)) throw new SizeError(`'${text}' is not a whole number: write it like 10000`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new SizeError(`'${text}' is too large`);
  return n;
}

/** Formats bytes for people, one decimal at most: "5 GiB", "1.5 MiB", "9.8 KiB", "912 B"; Infinity is "unlimited". */
export function formatBytes(bytes: number): string {
  if (bytes === Infinity) return 'unlimited';
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : Number(v.toFixed(1))} ${units[i]}`;
}

/** Formats a count with thousands separators: 10000 -> "10,000". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
