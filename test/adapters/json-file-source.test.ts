/**
 * The worked example of packages/adapters/docs/write-an-adapter.md: the JSON-file source passes
 * the conformance kit (the import below declares the kit's tests), and the code shown in the guide
 * is exactly the code tested here, so the guide stays true.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../../packages/adapters/examples/json-file-source.conformance.js';

const adapters = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'adapters');

describe('the "Write an adapter" guide', () => {
  const guide = readFileSync(join(adapters, 'docs', 'write-an-adapter.md'), 'utf8');
  const includes = [...guide.matchAll(/<!-- include: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it('shows the example files verbatim', () => {
    expect(includes.map((m) => m[1]).sort()).toEqual([
      'examples/json-file-source.conformance.ts',
      'examples/json-file-source.ts',
    ]);
    for (const [, file, shown] of includes) {
      const actual = readFileSync(join(adapters, file as string), 'utf8');
      expect(shown, `${file} differs from its copy in the guide; paste it again`).toBe(actual);
    }
  });
});
