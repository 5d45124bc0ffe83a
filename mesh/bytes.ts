/** Byte sizes for people: "100 GiB" in messages, and --capacity 100GiB on the command line. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 -> "1.5 KiB", 107374182400 -> "100 GiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'unlimited';
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(value >= 100 ? 0 : 1).replace(/\.0$/, '');
  return `${text} ${UNITS[unit]}`;
}

const FACTORS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, p: 1e15, pb: 1e15,
  ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40, pi: 2 ** 50, pib: 2 ** 50,
};

/** "100GiB", "1.5 TB", "512m", "4096" -> bytes. Throws a RangeError naming the bad value. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = match ? FACTORS[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined)
    throw new RangeError(`"${text}" is not a size: write a number with an optional unit, e.g. 500GiB, 2TB, 1048576`);
  return Math.floor(Number(match[1]) * factor);
}
