import { WeftError } from '@weft/core';

/**
 * An adapter's client library is an optional peer dependency that is not installed. The message
 * says which package and version range to install; `packageName` carries the package.
 */
export class MissingPeerDependencyError extends WeftError {
  readonly packageName: string;
  constructor(packageName: string, adapter: string, range: string, cause: unknown) {
    super(
      'WEFT_ERR_MISSING_PEER_DEPENDENCY',
      `The ${adapter} adapter needs the package "${packageName}" (${range}), an optional peer dependency of ` +
        `@weft/adapters that is not installed: run \`npm install ${packageName}@"${range}"\``,
      { cause },
    );
    this.name = 'MissingPeerDependencyError';
    this.packageName = packageName;
  }
}

/**
 * Loads a peer dependency on first use. `load` must be a literal `() => import('pkg')` so bundlers
 * see the specifier. Only a missing package becomes {@link MissingPeerDependencyError}; any other
 * load failure (a broken install, a syntax error) is rethrown as is.
 */
export async function importPeer<T>(
  packageName: string,
  adapter: string,
  range: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : '';
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${packageName}'`))
      throw new MissingPeerDependencyError(packageName, adapter, range, err);
    throw err;
  }
}
