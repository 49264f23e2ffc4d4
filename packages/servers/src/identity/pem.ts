/** The PEM blocks of one label in `text`, in order (`CERTIFICATE`, `PRIVATE KEY`…), each ending with a newline. */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => `${m[0]}\n`);
}

/** The first private key block of `text` (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). */
export function privateKeyBlock(text: string): string | undefined {
  return /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]*?-----END (?:EC |RSA )?PRIVATE KEY-----/.exec(text)?.[0];
}
