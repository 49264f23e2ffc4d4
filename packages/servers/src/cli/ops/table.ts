import { styleText } from 'node:util';
import Table from 'cli-table3';

/** No borders at all: columns separated by two spaces, as kubectl and a8ctl print them. */
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/**
 * An aligned table for people: a header row, then one row per item, columns padded to their
 * widest cell (cli-table3 measures what a terminal shows, so wide characters and colour codes
 * do not break the alignment) and separated by two spaces — no borders, so it reads well and
 * greps well. The header is bold when `color` is on; the caller turns it on only for a terminal.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  if (rows.length === 0) return '';
  const table = new Table({
    head: headers.map((h) => h.toUpperCase()),
    chars: BORDERLESS,
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] },
  });
  for (const row of rows) table.push([...row]);
  const [head = '', ...body] = table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd());
  return `${[color ? styleText('bold', head, { validateStream: false }) : head, ...body].join('\n')}\n`;
}
