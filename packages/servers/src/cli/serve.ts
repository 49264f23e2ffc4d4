import type { FastifyInstance } from 'fastify';
import { DASHBOARD_PATH } from '../dashboard/serve.js';
import type { CliContext } from './command.js';

/** How a server command listens and stops. */
export interface ServeOptions {
  /** `control-plane`, for messages. */
  readonly command: string;
  readonly host: string;
  readonly port: number;
  /** How long requests in flight may take to finish after a signal before their connections are cut, ms. */
  readonly shutdownTimeoutMs: number;
}

/** A listen failure a user can act on, said plainly (the port is taken, or privileged). */
export class ListenError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ListenError';
  }
}

function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE')
    return new ListenError(`cannot listen on ${where}: the port is in use (choose another with --port or WEFT_PORT)`, {
      cause: err,
    });
  if (code === 'EACCES')
    return new ListenError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, {
      cause: err,
    });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new ListenError(`cannot listen on ${where}: no such address on this machine (check --host)`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Listens, says where, and serves until SIGTERM or SIGINT. Then it shuts down gracefully:
 * `app.close()` stops accepting connections and answers new requests on open ones with 503, the
 * servers end their watches (long-polls answer, event streams end) and wait for requests in
 * flight, the stores flush, and the promise resolves with exit code 0. Requests still running
 * after `shutdownTimeoutMs` have their connections cut. A second signal exits at once
 * (128 + the signal's number, as shells report a process killed by it).
 *
 * The signal handler is in place before anything is printed: whoever reads "listening on" may
 * signal at once, and a signal that finds no handler kills the process without a shutdown.
 */
export async function serve(app: FastifyInstance, options: ServeOptions, context: CliContext): Promise<number> {
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let listening = false;
  let signalled: NodeJS.Signals | undefined;

  const shutDown = (signal: NodeJS.Signals): void => {
    context.stderr(`weft ${options.command}: ${signal}, shutting down (again to exit at once)\n`);
    app.log.info({ signal }, 'shutting down');
    // Connections still busy when the time is up are cut, so a stuck client cannot hold the exit.
    const cut = setTimeout(() => {
      app.log.warn({ timeoutMs: options.shutdownTimeoutMs }, 'shutdown timeout: closing the connections left');
      app.server.closeAllConnections();
    }, options.shutdownTimeoutMs);
    cut.unref();
    app.close().then(
      () => {
        clearTimeout(cut);
        app.log.info('stopped');
        finish(0);
      },
      (err: unknown) => {
        clearTimeout(cut);
        context.stderr(`weft ${options.command}: shutdown failed: ${(err as Error).message}\n`);
        finish(1);
      },
    );
  };

  const removeHandler = context.onSignal((signal) => {
    if (signalled !== undefined) {
      context.stderr(`weft ${options.command}: ${signal} again, exiting at once\n`);
      finish(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    signalled = signal;
    // A signal while still starting: shut down as soon as the listen settles.
    if (listening) shutDown(signal);
  });
  try {
    let address: string;
    try {
      address = await app.listen({ host: options.host, port: options.port });
    } catch (err) {
      await app.close().catch(() => undefined);
      throw listenError(err, options.host, options.port);
    }
    listening = true;
    // The one line a person (or a script starting the server on port 0) looks for; logs are on stdout.
    context.stderr(`weft ${options.command} listening on ${address}\n`);
    // The dashboard's address, where the server serves one (the control plane), to open in a browser.
    if (app.hasRoute({ method: 'GET', url: DASHBOARD_PATH }))
      context.stderr(`weft ${options.command} dashboard on ${address}${DASHBOARD_PATH}\n`);
    if (signalled !== undefined) shutDown(signalled);
    return await finished;
  } finally {
    removeHandler();
  }
}
