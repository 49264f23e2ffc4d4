/**
 * Imported first by each entry point, for its side effect: refuse an unsupported Node.js with a
 * coded error before undici is loaded. The build keeps this module a file of its own that each
 * entry imports before anything else (see tsup.config.ts): bundled in, it would run only after
 * the entry's other imports, undici's among them, had been evaluated — too late.
 */
import { assertSupportedNode } from './node-version.js';

assertSupportedNode(globalThis.process?.versions?.node);
