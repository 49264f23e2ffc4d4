import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consulMissing, findConsul, givenConsul } from './consul.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-find-consul-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Consul of the TCP echo example', () => {
  it('takes --consul over CONSUL_HTTP_ADDR, and a host:port as an http URL', () => {
    expect(givenConsul(['--consul', 'http://10.0.0.1:8500/'], { CONSUL_HTTP_ADDR: '127.0.0.1:1' })).toBe(
      'http://10.0.0.1:8500',
    );
    expect(givenConsul([], { CONSUL_HTTP_ADDR: '127.0.0.1:8500' })).toBe('http://127.0.0.1:8500');
    expect(givenConsul([], { CONSUL_HTTP_ADDR: '' })).toBeUndefined();
    expect(givenConsul([], {})).toBeUndefined();
  });

  it('finds the binary by WEFT_CONSUL_BIN, on PATH, then in the provisioning cache, and says where it looked', () => {
    const cache = join(dir, 'cache');
    const bin = join(dir, 'bin');
    expect(findConsul({ PATH: bin, WEFT_SERVERS_CACHE: cache })).toEqual({
      searched: ['$PATH/consul', join(cache, 'bin', 'consul')],
    });
    mkdirSync(join(cache, 'bin'), { recursive: true });
    const cached = join(cache, 'bin', 'consul');
    writeFileSync(cached, '#!/bin/sh\n');
    chmodSync(cached, 0o755);
    expect(findConsul({ PATH: bin, WEFT_SERVERS_CACHE: cache })).toEqual({ binary: cached });
    mkdirSync(bin);
    const onPath = join(bin, 'consul');
    writeFileSync(onPath, '#!/bin/sh\n');
    chmodSync(onPath, 0o755);
    expect(findConsul({ PATH: bin, WEFT_SERVERS_CACHE: cache })).toEqual({ binary: onPath });
    expect(findConsul({ PATH: bin, WEFT_CONSUL_BIN: cached })).toEqual({ binary: cached });
    const nope = join(dir, 'nope');
    expect(findConsul({ PATH: bin, WEFT_CONSUL_BIN: nope })).toEqual({ searched: [`WEFT_CONSUL_BIN=${nope}`] });
    expect(consulMissing(['$PATH/consul'])).toMatch(/pass --consul <url>.*bash \.ci\/provision-servers\.sh consul/);
  });
});
