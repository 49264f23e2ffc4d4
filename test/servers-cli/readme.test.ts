/** The package README documents every setting as the command defines it (the table can drift; this catches it). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../packages/servers/src/cli/commands.js';
import { describeSettings } from '../../packages/servers/src/config/describe.js';
import { configSchemas } from '../../packages/servers/src/config/schemas.js';
import { repoRoot } from './weft-process.js';

const readme = readFileSync(join(repoRoot, 'packages', 'servers', 'README.md'), 'utf8');
/** The README's table rows as cells, trimmed (the formatter pads columns to align them). */
const rows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((cell) => cell.trim()),
  );

describe('packages/servers/README.md', () => {
  for (const [name, schema] of Object.entries(configSchemas))
    it(`lists every setting of ${name} with its flag and environment variable`, () => {
      for (const s of describeSettings(schema)) {
        const row = rows.find((cells) => cells[0] === `\`${s.key}\``);
        expect(row, s.key).toBeDefined();
        expect(row).toContain(s.flag === undefined ? '—' : `\`--${s.flag}\``);
        expect(row).toContain(`\`${s.env}\``);
      }
    });

  it('lists every command', () => {
    for (const group of COMMAND_GROUPS)
      for (const command of group.commands)
        expect(
          rows.some((cells) => cells[0] === `\`weft ${command.name}\``),
          command.name,
        ).toBe(true);
  });
});
