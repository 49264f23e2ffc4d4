import { WeftError } from '@weft/core';

/**
 * The oldest Node.js @weft/proxy runs on. undici 8, which MeshAgent is built on, needs 22.19: on
 * older versions it fails while loading (on Node 20, a bare `TypeError` from inside undici).
 */
export const MIN_NODE_VERSION = '22.19.0';

/** True when `version` (`process.versions.node`, such as `22.19.0`) is at least {@link MIN_NODE_VERSION}. */
export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor = 0, minMinor = 0] = MIN_NODE_VERSION.split('.').map(Number);
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

/**
 * Throws `WEFT_ERR_UNSUPPORTED_RUNTIME`, naming the version needed, when `version` is older than
 * {@link MIN_NODE_VERSION}; does nothing outside Node.js (no `version` to judge).
 */
export function assertSupportedNode(version: string | undefined): void {
  if (version === undefined || isSupportedNode(version)) return;
  throw new WeftError(
    'WEFT_ERR_UNSUPPORTED_RUNTIME',
    `@weft/proxy needs Node.js ${MIN_NODE_VERSION} or later; this is Node.js ${version}, on which undici, ` +
      'the HTTP client it is built on, fails to load. Upgrade Node.js.',
  );
}
