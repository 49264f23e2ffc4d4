import pkg from '../../package.json' with { type: 'json' };

/** The version of `@weft/servers`, which `weft --version` prints (inlined into dist by the build). */
export const VERSION: string = pkg.version;
