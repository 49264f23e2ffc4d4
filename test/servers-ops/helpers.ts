/** A real `weft control-plane` process, and the operator commands run against it as processes. */
import { spawn } from 'node:child_process';
import { binInRepo, listeningUrl, repoRoot, startWeft, type WeftProcess } from '../servers-cli/weft-process.js';

export interface ControlPlane {
  readonly url: string;
  readonly process: WeftProcess;
  /** Registers an instance through the registry API (at 10.0.0.1 unless `host` is given); returns its id. */
  register(service: string, tags: readonly string[], port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const p = startWeft(['control-plane', '--port', '0', '--log-level', 'warn']);
  const url = await listeningUrl(p);
  return {
    url,
    process: p,
    async register(service, tags, port, host = '10.0.0.1') {
      const res = await fetch(`${url}/api/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service_name: service,
          endpoint: { type: 'http', value: `${host}:${port}` },
          tags,
          ttl: 600,
        }),
      });
      if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async stop() {
      p.child.kill('SIGTERM');
      await p.exited;
    },
  };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `weft <args>` to its end with the control plane's URLs in the environment (cleared of
 * any the machine has), `input` on standard input when given.
 */
export function weft(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; interruptAfterMs?: number } = {},
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (/^(WEFT|A8)_/.test(key)) delete env[key];
  const child = spawn(process.execPath, [binInRepo, ...args], {
    cwd: repoRoot,
    env: { ...env, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.input);
  // Ctrl-C as a terminal sends it: SIGINT to the process.
  const interrupt =
    options.interruptAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs);
  child.on('close', () => clearTimeout(interrupt));
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** `weft` against a control plane, the way an Amalgam8 user's environment names it. */
export const against = (url: string): NodeJS.ProcessEnv => ({ A8_CONTROLLER_URL: url, A8_REGISTRY_URL: url });

/** The rules the controller holds, read directly (not through the CLI under test). */
export async function storedRules(url: string, destination?: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/v1/rules${destination === undefined ? '' : `?destination=${destination}`}`);
  return ((await res.json()) as { rules: Record<string, unknown>[] }).rules;
}
