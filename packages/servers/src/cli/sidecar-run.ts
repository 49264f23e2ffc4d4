import type { SidecarConfig } from '../config/sidecar-settings.js';
import type { CliContext } from './command.js';
import { ListenError } from './serve.js';

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A listen failure said plainly, as the servers say theirs. */
function startError(err: unknown): Error {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.address === undefined ? '' : ` ${e.address}:${e.port}`;
  if (e.code === 'EADDRINUSE')
    return new ListenError(`cannot listen on${where}: the port is in use (see --proxy-port, --admin-port)`, {
      cause: err,
    });
  if (e.code === 'EACCES')
    return new ListenError(`cannot listen on${where}: permission denied (ports below 1024 need privileges)`, {
      cause: err,
    });
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Runs the agent until a signal or the app's end, and resolves with the exit code: the app's own
 * when a 'terminate' command (the app after `--`) ended — also when it ended because the sidecar
 * stopped it, as `tini` reports — else 0. A second signal exits at once (130 / 143); the
 * supervisor's exit hook then kills the app's process groups, so nothing is left behind.
 */
export async function runSidecar(config: SidecarConfig, app: readonly string[], context: CliContext): Promise<number> {
  const name = `weft ${config.mode}`;
  const log = (message: string): void => context.stderr(`${name}: ${message}\n`);
  // Loaded here: --help, --print-config and config errors never pay for the proxy and the clients.
  const { SidecarAgent } = await import('../agent/sidecar-agent.js');
  const agent = new SidecarAgent(config, app, log);

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${why}, shutting down`);
    agent.stop().then(
      () => finish(agent.appExitCode ?? 0),
      (err: unknown) => {
        log(`shutdown failed: ${(err as Error).message}`);
        finish(1);
      },
    );
  };
  // In place before anything starts: a signal that finds no handler would kill the sidecar and
  // orphan the app.
  const removeHandler = context.onSignal((signal) => {
    if (stopping) {
      log(`${signal} again, exiting at once`);
      finish(SIGNAL_EXIT[signal] ?? 1);
      return;
    }
    stop(signal);
  });
  agent.on('terminate', (code) => stop(`the app exited (${code})`));
  try {
    let addresses: Awaited<ReturnType<typeof agent.start>>;
    try {
      addresses = await agent.start();
    } catch (err) {
      await agent.stop().catch(() => undefined);
      throw startError(err);
    }
    // The line a person (or a script on --proxy-port 0) waits for; the proxy is ready.
    context.stderr(
      `${name} listening on ${addresses.proxy ?? '(no proxy)'} (admin ${addresses.admin}${Object.entries(addresses.tcp)
        .map(([s, p]) => `, tcp ${s} :${p}`)
        .join('')})\n`,
    );
    return await finished;
  } finally {
    removeHandler();
  }
}
