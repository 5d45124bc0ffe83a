/**
 * Sizes and counts as people write them: "5GiB", "500MB", "1.5TB", "1048576", "none".
 * Binary units (KiB, MiB, GiB, TiB, PiB) are powers of 1024, SI units (KB, MB, GB, TB, PB) powers
 * of 1000. Pure functions; errors are plain messages that name the problem and the fix.
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
    throw new SizeError(`'${text}' is not a size: write it like 5GiB, 500MB, 1.5TB or a number of bytes`);
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

/** Parses a non-negative whole number ("10000", "10_000", "10,000"). */
export function parseCount(text: string): number {
  const t = text.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(t)) throw new SizeError(`'${text}' is not a whole number: write it like 10000`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new SizeError(`'${text}' is too large`);
  return n;
}

/** Formats bytes for people: "5 GiB", "1.5 MiB", "912 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || Number.isInteger(v) ? 0 : v < 10 ? 2 : 1;
  return `${Number(v.toFixed(digits))} ${units[i]}`;
}

/** Formats a count with thousands separators: 10000 -> "10,000". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
