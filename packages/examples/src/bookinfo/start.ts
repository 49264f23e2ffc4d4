/**
 * The polyglot bookinfo, started and stopped from a program: one `weft control-plane`;
 * productpage (Python), details (Go) and reviews v1/v2/v3 (Java) each behind a `weft sidecar`
 * process; ratings (Node) in this process, registered by a `RegistrationClient`; a `weft gateway`
 * in front. `npm run -w @weft/examples bookinfo` walks through Amalgam8's flows on it; a recipe
 * runner can run recipes against it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessSet } from '../mesh/processes.js';
import { endpointsReached, freePort, registeredInstances, rulesReached, until } from '../mesh/wait.js';
import { type ProxyProcess, startControlPlane, startGateway, startSidecar } from '../mesh/weft.js';
import { type RatingsService, startRatings } from './ratings.js';
import { checkToolchains } from './toolchains.js';

const here = import.meta.dirname;

/** Options of {@link startBookinfo}. */
export interface BookinfoOptions {
  /**
   * Route every service to its v1 once started (`true`, the default, as Amalgam8's bookinfo
   * began), or leave the controller without rules (`false`: each call goes to any version).
   */
  routeToV1?: boolean;
  /** Keep the processes' log files after `stop()` (default: removed). */
  keepLogs?: boolean;
}

/** A proxy of the running bookinfo: a sidecar, or the gateway. */
export interface BookinfoProxy {
  /** `productpage-v1`, `details-v1`, `reviews-v2`, …, or `gateway`. */
  readonly name: string;
  /** The service it fronts (undefined for the gateway). */
  readonly service?: string;
  /** The instance's tags, e.g. `['version=v2']` (empty for the gateway). */
  readonly tags: readonly string[];
  /** The proxy the app calls through: `<proxy>/<service>/<path>`. */
  readonly proxy: string;
  /** Its admin listener: `/health`, `/metrics`, `/debug/endpoints`, `/debug/access-log`, `/debug/explain`. */
  readonly admin: string;
}

/** A running bookinfo. */
export interface Bookinfo {
  readonly urls: {
    /** The control plane: registry (`/api/v1`) and rules controller (`/v1/rules`) on one port. */
    readonly controlPlane: string;
    /** The gateway: `<gateway>/<service>/<path>`. */
    readonly gateway: string;
    /** The product page, through the gateway (HTML). */
    readonly productpage: string;
    /** The same as JSON, through the gateway: details, reviews (version, stars) or why they are missing. */
    readonly productApi: string;
  };
  /** Every sidecar and the gateway, with their admin URLs. */
  readonly proxies: readonly BookinfoProxy[];
  /** The directory of the processes' log files. */
  readonly logDir: string;
  /** Waits until every proxy has the controller's current rules (call after changing them). */
  rulesApplied(): Promise<void>;
  /**
   * Stops everything it started — ratings, the sidecars (which stop their apps and deregister
   * them), the gateway, the control plane. `keepLogs` overrides the start option. Calling it
   * again waits for the first call.
   */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

/** The rules of Amalgam8's bookinfo start: every service to v1. */
export const ALL_TO_V1 = ['productpage', 'details', 'reviews', 'ratings'].map((service) => ({
  id: `${service}-default`,
  priority: 1,
  destination: service,
  route: { backends: [{ tags: ['version=v1'] }] },
}));

/**
 * Builds details.go once per version of its source (cached under the system's temp directory),
 * outside any sidecar: `go run` would leave its compiler's child in the app's process group.
 */
function buildDetails(): string {
  const source = join(here, 'details.go');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'weft-examples-cache');
  const binary = join(dir, `details-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  execFileSync('go', ['build', '-o', partial, source], {
    cwd: dir,
    env: { ...process.env, GO111MODULE: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  renameSync(partial, binary); // atomic: a concurrent start never runs half a binary
  return binary;
}

/** The JVM started for each reviews version: source launch, tuned for a quick start and a small heap. */
const JAVA = ['java', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xss512k', '-Xmx64m', '-Xshare:auto'];

/**
 * Starts the polyglot bookinfo and resolves once every instance is registered and every proxy
 * knows every instance (and, with `routeToV1`, has the rules). Checks the toolchains first and
 * throws a `MissingToolchainError` naming what is missing. On a failure half-way it stops what
 * it started and keeps the logs (their directory is in the error).
 *
 * ```ts
 * const bookinfo = await startBookinfo();
 * const page = await fetch(bookinfo.urls.productApi, { headers: { cookie: 'user=jason' } });
 * await bookinfo.stop();
 * ```
 */
export async function startBookinfo(options: BookinfoOptions = {}): Promise<Bookinfo> {
  checkToolchains();
  const set = new ProcessSet('weft-bookinfo');
  let ratings: RatingsService | undefined;
  try {
    const [controlPlane, detailsBinary] = await Promise.all([
      startControlPlane(set),
      Promise.resolve().then(buildDetails),
    ]);
    const sidecar = async (
      service: string,
      version: string,
      app: (port: number) => { cmd: string[]; env?: NodeJS.ProcessEnv },
    ): Promise<BookinfoProxy> => {
      const [appPort, proxyPort] = await Promise.all([freePort(), freePort()]);
      const { cmd, env } = app(appPort);
      const started: ProxyProcess = await startSidecar(set, controlPlane, {
        name: `${service}-${version}`,
        service,
        tags: [`version=${version}`],
        appPort,
        proxyPort,
        app: cmd,
        env: { PORT: String(appPort), SIDECAR_URL: `http://127.0.0.1:${proxyPort}`, ...env },
        cwd: here,
      });
      return {
        name: `${service}-${version}`,
        service,
        tags: [`version=${version}`],
        proxy: started.proxy,
        admin: started.admin,
      };
    };
    const sidecars = await Promise.all([
      sidecar('productpage', 'v1', () => ({ cmd: ['python3', join(here, 'productpage.py')] })),
      sidecar('details', 'v1', () => ({ cmd: [detailsBinary] })),
      ...['v1', 'v2', 'v3'].map((version) =>
        sidecar('reviews', version, () => ({ cmd: [...JAVA, join(here, 'Reviews.java')], env: { VERSION: version } })),
      ),
    ]);
    ratings = await startRatings(controlPlane);
    const gateway = await startGateway(set, controlPlane);
    const proxies: BookinfoProxy[] = [
      ...sidecars,
      { name: 'gateway', tags: [], proxy: gateway.proxy, admin: gateway.admin },
    ];
    const admins = proxies.map((p) => p.admin);

    const expected = { productpage: 1, details: 1, reviews: 3, ratings: 1 };
    await until(
      'every bookinfo instance to be registered (their health checks to pass)',
      async () => {
        for (const [service, n] of Object.entries(expected))
          if ((await registeredInstances(controlPlane, service)) !== n) return undefined;
        return true;
      },
      60_000,
    );
    await endpointsReached(controlPlane, admins);
    if (options.routeToV1 !== false) {
      const res = await fetch(`${controlPlane}/v1/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rules: ALL_TO_V1 }),
      });
      if (!res.ok)
        throw new Error(`the controller refused bookinfo's default rules: HTTP ${res.status} ${await res.text()}`);
      await rulesReached(controlPlane, admins);
    }

    const running = ratings;
    let stopping: Promise<void> | undefined;
    return {
      urls: {
        controlPlane,
        gateway: gateway.proxy,
        productpage: `${gateway.proxy}/productpage/productpage`,
        productApi: `${gateway.proxy}/productpage/api/v1/products/0`,
      },
      proxies,
      logDir: set.logDir,
      rulesApplied: () => rulesReached(controlPlane, admins),
      stop(stopOptions = {}) {
        const keepLogs = stopOptions.keepLogs ?? options.keepLogs ?? false;
        stopping ??= running.close().finally(() => set.stop({ keepLogs }));
        return stopping;
      },
    };
  } catch (err) {
    await ratings?.close().catch(() => undefined);
    await set.stop({ keepLogs: true });
    throw new Error(
      `bookinfo did not start (logs kept in ${set.logDir}): ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}
