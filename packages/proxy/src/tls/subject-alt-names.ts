/**
 * node's `subjectAltName` string as `[type, value]` pairs: entries are `TYPE:value` joined by
 * `, `, and a value that could be misread (it holds `,` or quotes, say) is a JSON string.
 */
export function subjectAltNames(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    if (text[colon + 1] === '"') {
      // A JSON string: find its closing quote (skipping escapes), then decode it.
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      } catch {
        value = text.slice(colon + 2, j);
      }
      i = j + 1;
    } else {
      const end = text.indexOf(', ', colon + 1);
      value = text.slice(colon + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    }
    out.push([type, value]);
    if (text.startsWith(', ', i)) i += 2;
  }
  return out;
}
