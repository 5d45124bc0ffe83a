/**
 * Plain-text tables for the admin CLI: columns padded to their widest cell, numbers right-aligned.
 * Pure functions returning strings (each line ends with a newline).
 */

export type Align = 'left' | 'right';

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, i) => {
        const cell = cells[i] ?? '';
        return align[i] === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

/** Two columns, "label:  value". */
export function renderPairs(pairs: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w)}  ${v}\n`).join('');
}
