/** Runs an example of packages/examples the way `npm run demo` does and returns what it printed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');

export async function runExample(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), '--conditions=@weft/source', `src/${file}`],
    { cwd: join(root, 'packages/examples'), timeout: 60_000 },
  );
  return stdout;
}
