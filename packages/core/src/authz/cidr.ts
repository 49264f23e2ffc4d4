import { BlockList, isIP } from 'node:net';

/**
 * Checks one CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address (`127.0.0.2`, a /32 or
 * /128). Returns the problem in words, or undefined when it is valid.
 */
export function cidrProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `must be an IP address or CIDR block such as 10.0.0.0/8 (got ${JSON.stringify(value)})`;
  if (slash === -1) return undefined;
  const bits = value.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    return `must end in a prefix length from 0 to ${max} (got ${JSON.stringify(value)})`;
  return undefined;
}

/**
 * A set of CIDR blocks, tested with node's own `net.BlockList` (IPv4 and IPv6, and IPv4-mapped
 * IPv6 addresses such as `::ffff:10.1.2.3`, which is how a dual-stack server reports IPv4
 * clients). Blocks must have passed {@link cidrProblem}.
 */
export class CidrSet {
  private readonly list = new BlockList();

  constructor(blocks: readonly string[]) {
    for (const block of blocks) {
      const slash = block.indexOf('/');
      const address = slash === -1 ? block : block.slice(0, slash);
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      const prefix = slash === -1 ? (type === 'ipv4' ? 32 : 128) : Number(block.slice(slash + 1));
      this.list.addSubnet(address, prefix, type);
    }
  }

  /** Whether `ip` lies in one of the blocks; false for anything that is not an IP address. */
  has(ip: string): boolean {
    const family = isIP(ip);
    if (family === 0) return false;
    if (family === 6 && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4)
      return this.list.check(ip.slice(7), 'ipv4') || this.list.check(ip, 'ipv6');
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}
