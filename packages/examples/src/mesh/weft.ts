/**
 * The `weft` command as an example runs it: the control plane, sidecars and a gateway as
 * processes of a {@link ProcessSet}, and the operator commands (`route-set`, `traffic-step` …)
 * run to their end, exactly as a user types them.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ProcessSet, StartedProcess } from './processes.js';

/**
 * `bin/weft.mjs` of @weft/servers: in a clone it runs the TypeScript sources, installed it runs
 * the build — the command a user runs as `npx weft`.
 */
export const weftBin = join(
  dirname(createRequire(import.meta.url).resolve('@weft/servers/package.json')),
  'bin',
  'weft.mjs',
);

/** Starts `weft control-plane` on a free port; resolves with its URL once it listens. */
export async function startControlPlane(set: ProcessSet): Promise<string> {
  const p = set.start(
    'control-plane',
    process.execPath,
    [weftBin, 'control-plane', '--port', '0', '--log-level', 'warn'],
    {
      stopLast: true,
    },
  );
  const [, url] = await set.waitForLine(p, /listening on (http:\/\/\S+)/);
  return url as string;
}

/** What a started sidecar or gateway listens on. */
export interface ProxyProcess {
  readonly process: StartedProcess;
  /** The proxy: `<proxy>/<service>/<path>` reaches a service. */
  readonly proxy: string;
  /** Its admin listener: `/health`, `/metrics`, `/debug/endpoints`, `/debug/explain`. */
  readonly admin: string;
}

async function proxyUrls(set: ProcessSet, p: StartedProcess): Promise<ProxyProcess> {
  const [, proxy, admin] = await set.waitForLine(p, /listening on (\S+) \(admin (http:\/\/[^,)\s]+)/);
  return { process: p, proxy: proxy as string, admin: admin as string };
}

/** Options of {@link startSidecar}. */
export interface SidecarSpec {
  /** Name of its log file. */
  name: string;
  service: string;
  /** Tags of the instance, e.g. `['version=v1']`. */
  tags: readonly string[];
  /** The port the app listens on (registered as 127.0.0.1:<port>). */
  appPort: number;
  /** Port of the proxy the app calls other services through; 0 picks one. */
  proxyPort?: number;
  /** The app's command line, which the sidecar supervises. */
  app: readonly string[];
  /** Extra environment for the sidecar and its app. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts `weft sidecar … -- <app>`: it runs the app, registers it in the control plane once its
 * `/health` answers (probed every 200 ms, so the example does not wait the default 5 s), and
 * proxies its calls. Resolves once the proxy listens (the app may still be starting).
 */
export async function startSidecar(set: ProcessSet, controlPlane: string, spec: SidecarSpec): Promise<ProxyProcess> {
  const args = [
    weftBin,
    'sidecar',
    '--service-name',
    spec.service,
    '--service-tags',
    spec.tags.join(','),
    '--endpoint-host',
    '127.0.0.1',
    '--endpoint-port',
    String(spec.appPort),
    '--registry-url',
    controlPlane,
    '--proxy-port',
    String(spec.proxyPort ?? 0),
    '--admin-port',
    '0',
    '--healthchecks',
    `http://127.0.0.1:${spec.appPort}/health`,
    '--health-interval',
    '200ms',
    '--log-level',
    'warn',
    '--',
    ...spec.app,
  ];
  const p = set.start(spec.name, process.execPath, args, {
    ...(spec.env === undefined ? {} : { env: spec.env }),
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
  });
  return proxyUrls(set, p);
}

/** Starts `weft gateway` on loopback (its default is 0.0.0.0), following the control plane. */
export async function startGateway(set: ProcessSet, controlPlane: string): Promise<ProxyProcess> {
  const p = set.start('gateway', process.execPath, [
    weftBin,
    'gateway',
    '--registry-url',
    controlPlane,
    '--proxy-host',
    '127.0.0.1',
    '--proxy-port',
    '0',
    '--admin-port',
    '0',
    '--log-level',
    'warn',
  ]);
  return proxyUrls(set, p);
}

/** What an operator command printed. */
export interface OperatorResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `weft <args…>` against the control plane (`WEFT_CONTROLLER_URL` / `WEFT_REGISTRY_URL`)
 * and resolves with its output; rejects with the command and its output when it fails.
 */
export async function weft(controlPlane: string, args: readonly string[]): Promise<OperatorResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [weftBin, ...args], {
      env: { ...process.env, WEFT_CONTROLLER_URL: controlPlane, WEFT_REGISTRY_URL: controlPlane, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string; code?: number };
    throw new Error(`weft ${args.join(' ')} failed (exit ${e.code}):\n${e.stderr ?? ''}${e.stdout ?? ''}`, {
      cause: err,
    });
  }
}

/** A command line as a user would type it (arguments with spaces or quotes single-quoted). */
export function commandLine(args: readonly string[]): string {
  return ['weft', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}
