/**
 * Runs the TCP echo example (`npm run -w @weft/examples tcp-echo`) as a user does: a real Consul
 * agent (the provisioned binary), a weft controller, two echo instances and a Node and a Java
 * client, each behind a `weft sidecar` that registers it in Consul. Checks that each client,
 * knowing only its sidecar's local port, was answered by both echo instances; that Consul's
 * catalog lists every process; that the clients go on with echo-1 once echo-2 stops; that nothing
 * is left running — and that the clients cannot be given the echo server's address at all.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { processesWithEnv, runExample, section } from './run-example.js';

const marker = `WEFT_EXAMPLE_RUN=tcp-echo-${process.pid}-${Date.now()}`;
const appDir = join(import.meta.dirname, '..', '..', 'packages', 'examples', 'src', 'tcp-echo');

/** `echo-1=9  echo-2=11` as numbers. */
const counts = (text: string): Record<string, number> =>
  Object.fromEntries([...text.matchAll(/(echo-\d)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));

describe('TCP echo through weft sidecars registered in Consul', () => {
  let stdout = '';
  beforeAll(async () => {
    const [name, value] = marker.split('=') as [string, string];
    // CONSUL_HTTP_ADDR cleared: the example starts its own agent from the cached binary.
    stdout = await runExample('tcp-echo/main.ts', { env: { [name]: value, CONSUL_HTTP_ADDR: '' }, timeoutMs: 120_000 });
  }, 130_000);

  it('registers both echo instances in Consul through their sidecars, with a TCP health check', () => {
    const lines = [...section(stdout, 2).matchAll(/^ {3}\$ (weft sidecar .*)$/gm)].map((m) => m[1] as string);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatch(/--registry-type consul --registry-url http:\/\/127\.0\.0\.1:\d+ /);
      const port = /--endpoint-port (\d+)/.exec(line)?.[1];
      expect(line).toContain(`--healthchecks tcp://127.0.0.1:${port}`);
      expect(line).toMatch(new RegExp(`-- node echo-server\\.mjs ${port} echo-\\d$`));
    }
  });

  it('gives each client only its local port, and both echo instances answer each, through its sidecar', () => {
    const echoPorts = [...section(stdout, 2).matchAll(/--endpoint-port (\d+)/g)].map((m) => m[1] as string);
    const text = section(stdout, 3);
    const sidecars = [...text.matchAll(/^ {3}\$ (weft sidecar .*)$/gm)].map((m) => m[1] as string);
    expect(sidecars).toHaveLength(2);
    for (const line of sidecars) {
      const local = /--tcp-proxies echo:(\d+) /.exec(line)?.[1];
      // The app's whole command line: the client program and its sidecar's local port, nothing else.
      expect(line).toMatch(new RegExp(` -- (node client\\.mjs|java Client\\.java) ${local}$`));
      for (const port of echoPorts) expect(line).not.toContain(port);
    }
    for (const lang of ['node', 'java']) {
      const summary = new RegExp(`^ {3}${lang} client \\(.*\\): (.*) of its first 20 replies$`, 'm').exec(text);
      expect(summary, `${lang} client summary in:\n${text}`).not.toBeNull();
      const c = counts(summary?.[1] ?? '');
      expect(Object.keys(c).sort(), `${lang}: both instances answered`).toEqual(['echo-1', 'echo-2']);
      expect((c['echo-1'] ?? 0) + (c['echo-2'] ?? 0)).toBe(20);
      expect(text).toMatch(new RegExp(`${lang} #\\d+ -> echo-\\d: hello \\d+ from ${lang}`));
    }
  });

  it('lists every process in Consul, passing its checks', () => {
    const rows = [...section(stdout, 4).matchAll(/^ {3}(\S+) +127\.0\.0\.1:(\d+) +(\S+)$/gm)].map(
      (m) => `${m[1]} ${m[3]}`,
    );
    expect(rows.sort()).toEqual([
      'echo instance=echo-1',
      'echo instance=echo-2',
      'echo-client-java lang=java',
      'echo-client-node lang=node',
    ]);
  });

  it('moves every client to echo-1 once echo-2 is stopped and deregistered', () => {
    const text = section(stdout, 5);
    expect(text).toMatch(/Consul lists 1 echo instance\(s\)/);
    for (const lang of ['node', 'java'])
      expect(text).toMatch(new RegExp(`^ {3}${lang} client: echo-1=10 +of its 10 replies after the stop$`, 'm'));
  });

  it('stops every process it started, Consul included', () => {
    expect(stdout).toMatch(/All processes stopped\./);
    expect(processesWithEnv(marker)).toEqual([]);
  });
});

describe('the TCP echo clients', () => {
  it('cannot be given an address: they take their sidecar’s local port only', async () => {
    const refused = async (command: string, args: readonly string[]) =>
      promisify(execFile)(command, args, { cwd: appDir, timeout: 30_000 }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
    const [node, java] = await Promise.all([
      refused(process.execPath, ['client.mjs', '127.0.0.1:7000']),
      refused('java', ['Client.java', '127.0.0.1', '7000']),
    ]);
    expect(node?.code).toBe(2);
    expect(node?.stderr).toMatch(/usage: node client\.mjs <local port>/);
    expect(java?.code).toBe(2);
    expect(java?.stderr).toMatch(/usage: java Client\.java <local port>/);
  }, 40_000);

  it('says what is missing when there is neither a Consul address nor a consul binary', async () => {
    const failed = await runExample('tcp-echo/main.ts', {
      env: { CONSUL_HTTP_ADDR: '', WEFT_CONSUL_BIN: '/nonexistent/consul' },
    }).then(
      () => undefined,
      (err: { code?: number; stderr?: string; stdout?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(
      /the TCP echo example cannot start:\n {2}- consul \(the registry every sidecar registers in\) is not given and not found \(looked in WEFT_CONSUL_BIN=\/nonexistent\/consul\): pass --consul <url>/,
    );
    expect(failed?.stdout).not.toMatch(/── 1\./);
  }, 30_000);
});
