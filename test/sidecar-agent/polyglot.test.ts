/**
 * `weft sidecar` as a user in another language meets it: a `weft control-plane` process, a Python
 * app and a Go app each behind a `weft sidecar` process, registered, calling each other through
 * their sidecars; the controller's rules reach both proxies; an app that dies is deregistered
 * once its health check fails; SIGTERM stops a sidecar cleanly, leaving no process behind.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningUrl, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';
import {
  freePort,
  get,
  health,
  killAll,
  processesWith,
  registered,
  sidecarUrls,
  until,
  untilRegistration,
} from './helpers.js';

const apps = join(import.meta.dirname, 'apps');
const dir = mkdtempSync(join(tmpdir(), 'weft-polyglot-'));
const marker = `weft-polyglot-${process.pid}-${Date.now()}`;
const started: WeftProcess[] = [];

let controlPlane: string;
let py: { process: WeftProcess; proxy: string; admin: string; appPort: number };
let go: { process: WeftProcess; proxy: string; admin: string; appPort: number };

beforeAll(async () => {
  // Built once, outside the sidecar: `go run` would leave its compiler's child in the process group.
  const goBinary = join(dir, 'goapp');
  execFileSync('go', ['build', '-o', goBinary, join(apps, 'main.go')], {
    cwd: dir,
    env: { ...process.env, GO111MODULE: 'off' },
  });

  const cp = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
  started.push(cp);
  controlPlane = await listeningUrl(cp);

  const [pyApp, pyProxy, goApp, goProxy] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

  // The Python sidecar is configured the Amalgam8 way: A8_* variables and its flag spellings.
  const pyConfig = join(dir, 'py.yaml');
  writeFileSync(
    pyConfig,
    ['healthchecks:', `  - { type: http, url: "http://127.0.0.1:${pyApp}/hello", interval: 150ms, timeout: 1s }`].join(
      '\n',
    ),
  );
  const pyProcess = startWeft(
    [
      'sidecar',
      '--config',
      pyConfig,
      '--proxy-port',
      String(pyProxy),
      '--admin-port',
      '0',
      '--endpoint_host',
      '127.0.0.1',
      '--log-level',
      'warn',
      '--',
      'python3',
      join(apps, 'app.py'),
      `${marker}-py`,
    ],
    {
      env: {
        A8_SERVICE: 'pyapp:version=v1',
        A8_ENDPOINT_PORT: String(pyApp),
        A8_REGISTRY_URL: controlPlane,
        A8_CONTROLLER_URL: controlPlane,
        A8_REGISTER: 'true',
        A8_PROXY: 'true',
        APP_PORT: String(pyApp),
        SIDECAR_URL: `http://127.0.0.1:${pyProxy}`,
      },
    },
  );
  started.push(pyProcess);

  // The Go sidecar is configured Weft's way: a YAML file. Its app is a command with onExit
  // ignore, so that killing it leaves the sidecar up to report it unhealthy and deregister it.
  const goConfig = join(dir, 'go.yaml');
  writeFileSync(
    goConfig,
    [
      'service: { name: goapp, tags: [version=v1] }',
      `endpoint: { host: 127.0.0.1, port: ${goApp} }`,
      `registry: { url: "${controlPlane}", ttl: 10s }`,
      `proxyPort: ${goProxy}`,
      'admin: { port: 0 }',
      'logLevel: warn',
      'healthchecks:',
      `  - { type: tcp, host: 127.0.0.1, port: ${goApp}, interval: 150ms, timeout: 1s }`,
      'commands:',
      `  - cmd: ["${goBinary}", "${marker}-go"]`,
      `    env: { APP_PORT: "${goApp}", SIDECAR_URL: "http://127.0.0.1:${goProxy}" }`,
      '    onExit: ignore',
    ].join('\n'),
  );
  const goProcess = startWeft(['sidecar', '--config', goConfig]);
  started.push(goProcess);

  py = { process: pyProcess, ...(await sidecarUrls(pyProcess)), appPort: pyApp };
  go = { process: goProcess, ...(await sidecarUrls(goProcess)), appPort: goApp };
}, 60_000);

afterAll(async () => {
  await killAll(started);
  rmSync(dir, { recursive: true, force: true });
});

describe('weft sidecar with a Python and a Go app', () => {
  it('registers both apps once their health checks pass', async () => {
    await until('pyapp and goapp registered', async () =>
      (await registered(controlPlane, 'pyapp')).length === 1 && (await registered(controlPlane, 'goapp')).length === 1
        ? true
        : undefined,
    );
    await untilRegistration(py.admin, 'registered');
    expect((await health(py.admin)).health).toMatchObject({ healthy: true });
  });

  it('lets each app call the other through its own sidecar', async () => {
    // Python → its sidecar → Go, and Go → its sidecar → Python.
    const fromPy = await until('python to reach go', async () => {
      const r = await get(`http://127.0.0.1:${py.appPort}/call/goapp/hello`);
      return r.status === 200 ? r : undefined;
    });
    expect(fromPy.body).toBe('hello from go');
    const fromGo = await until('go to reach python', async () => {
      const r = await get(`http://127.0.0.1:${go.appPort}/call/pyapp/hello`);
      return r.status === 200 ? r : undefined;
    });
    expect(fromGo.body).toBe('hello from python');
  });

  it("applies the controller's rules in the proxies", async () => {
    const rule = {
      rules: [
        {
          id: 'teapot',
          destination: 'goapp',
          actions: [{ action: 'abort', return_code: 418, probability: 1, tags: ['version=v1'] }],
        },
      ],
    };
    const res = await fetch(`${controlPlane}/v1/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    expect(res.status).toBeLessThan(300);
    await until('the abort rule to reach the python sidecar', async () =>
      (await get(`http://127.0.0.1:${py.appPort}/call/goapp/hello`)).status === 418 ? true : undefined,
    );
    await fetch(`${controlPlane}/v1/rules?id=teapot`, { method: 'DELETE' });
    await until('the rule to be gone', async () =>
      (await get(`${py.proxy}/goapp/hello`)).status === 200 ? true : undefined,
    );
    expect((await health(py.admin)).rules).toMatchObject({ stale: false, count: 0 });
  });

  it('deregisters an app whose health check fails, and keeps the sidecar up', async () => {
    const [pid] = processesWith(`${marker}-go`);
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGKILL');
    await until('goapp to be deregistered', async () =>
      (await registered(controlPlane, 'goapp')).length === 0 ? true : undefined,
    );
    const h = await health(go.admin);
    expect(h.registration).toMatchObject({ state: 'unregistered', reason: 'unhealthy' });
    expect(h.health).toMatchObject({ healthy: false });
    expect(go.process.child.exitCode).toBeNull();
    // The python sidecar no longer routes to it.
    await until('pyapp sidecar to drop goapp', async () =>
      (await get(`${py.proxy}/goapp/hello`)).status === 503 ? true : undefined,
    );
  });

  it('stops cleanly on SIGTERM: deregistered, exit code of the app, no process left', async () => {
    expect(processesWith(`${marker}-py`).length).toBeGreaterThanOrEqual(2); // the app and its child
    py.process.child.kill('SIGTERM');
    expect(await py.process.exited).toBe(0); // the app's own exit code (it exits 0 on SIGTERM)
    expect(await registered(controlPlane, 'pyapp')).toEqual([]);
    expect(processesWith(`${marker}-py`)).toEqual([]);

    go.process.child.kill('SIGTERM');
    expect(await go.process.exited).toBe(0);
    expect(processesWith(`${marker}-go`)).toEqual([]);
  });
});
