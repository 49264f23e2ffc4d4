#!/usr/bin/env node
// Loads every built package both ways a consumer would — ESM `import` and CommonJS `require` —
// through its `exports` map, and checks both builds expose the same names with type
// declarations present. Catches a broken exports map before a user does.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const packages = ['core', 'proxy'];
const require = createRequire(import.meta.url);
let failed = false;
for (const name of packages) {
  const dir = join(import.meta.dirname, '..', 'packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const esm = await import(join(dir, pkg.exports['.'].import.default));
  const cjs = require(join(dir, pkg.exports['.'].require.default));
  const esmNames = Object.keys(esm).sort().join(',');
  const cjsNames = Object.keys(cjs)
    .filter((k) => k !== 'default' && k !== '__esModule')
    .sort()
    .join(',');
  const types = [pkg.exports['.'].import.types, pkg.exports['.'].require.types].map((t) => join(dir, t));
  const missingTypes = types.filter((t) => !existsSync(t));
  if (esmNames !== cjsNames || esmNames === '' || missingTypes.length > 0) {
    failed = true;
    console.error(`${pkg.name}: ESM [${esmNames}] vs CJS [${cjsNames}]; missing types: ${missingTypes.join(', ')}`);
  } else {
    console.log(`${pkg.name}: ESM and CJS builds export the same ${Object.keys(esm).length} names; types present`);
  }
}
process.exit(failed ? 1 : 0);
