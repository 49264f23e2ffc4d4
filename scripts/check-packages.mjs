#!/usr/bin/env node
// Loads every built package both ways a consumer would — ESM `import` and CommonJS `require` —
// through its `exports` map, and checks both builds expose the same names with type
// declarations present. Catches a broken exports map before a user does.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const packages = ['core', 'proxy', 'adapters'];
const require = createRequire(import.meta.url);
let failed = false;
for (const name of packages) {
  const dir = join(import.meta.dirname, '..', 'packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // Every entry point: `.` and subpaths such as `./etcd` (a package may have subpaths only).
  const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target === 'object' && target.import);
  if (entries.length === 0) {
    failed = true;
    console.error(`${pkg.name}: no entry point with import/require conditions in its exports map`);
  }
  for (const [subpath, target] of entries) {
    const label = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const esm = await import(join(dir, target.import.default));
    const cjs = require(join(dir, target.require.default));
    const esmNames = Object.keys(esm).sort().join(',');
    const cjsNames = Object.keys(cjs)
      .filter((k) => k !== 'default' && k !== '__esModule')
      .sort()
      .join(',');
    const types = [target.import.types, target.require.types].map((t) => join(dir, t));
    const missingTypes = types.filter((t) => !existsSync(t));
    if (esmNames !== cjsNames || esmNames === '' || missingTypes.length > 0) {
      failed = true;
      console.error(`${label}: ESM [${esmNames}] vs CJS [${cjsNames}]; missing types: ${missingTypes.join(', ')}`);
    } else {
      console.log(`${label}: ESM and CJS builds export the same ${Object.keys(esm).length} names; types present`);
    }
  }
}
process.exit(failed ? 1 : 0);
