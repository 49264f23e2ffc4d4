import { styleText } from 'node:util';

/**
 * An aligned table for people: a header row, then one row per item, columns padded to their
 * widest cell and separated by two spaces (no borders, so it reads well and greps well). The
 * header is bold and dim when `color` is on; the caller turns it on only for a terminal.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const head = line(headers.map((h) => h.toUpperCase()));
  return `${[color ? styleText('bold', head, { validateStream: false }) : head, ...rows.map(line)].join('\n')}\n`;
}
