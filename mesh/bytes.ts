/** Byte sizes for people in the mesh's messages: "100 GiB". (--capacity is parsed by src/server/config.ts.) */

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
