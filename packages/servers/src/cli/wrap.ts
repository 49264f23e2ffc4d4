/** Width of every help text the `weft` command prints. */
export const HELP_WIDTH = 100;

/** Wraps text to {@link HELP_WIDTH} columns, each line starting with `indent`. */
export function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > HELP_WIDTH && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}
