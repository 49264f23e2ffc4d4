/** Where a setting's value came from, so an error can send the user to the right place. */
export type Origin =
  | { readonly type: 'flag'; readonly flag: string }
  | { readonly type: 'env'; readonly name: string }
  | { readonly type: 'file'; readonly file: string; readonly key: string; readonly line: number | undefined }
  | { readonly type: 'default' };

/** `--port`, `env WEFT_PORT`, `weft.yaml:3` (the line of the key), `the default`. */
export function describeOrigin(origin: Origin): string {
  switch (origin.type) {
    case 'flag':
      return `--${origin.flag}`;
    case 'env':
      return `env ${origin.name}`;
    case 'file':
      return origin.line === undefined ? `${origin.file}, key ${origin.key}` : `${origin.file}:${origin.line}`;
    case 'default':
      return 'the default';
  }
}
