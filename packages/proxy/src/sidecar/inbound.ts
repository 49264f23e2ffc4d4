import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { Discovery, InvalidArgumentError, instanceId, ManualSource, type ServiceInstance } from '@weft/core';
import type { MeshCredentials } from '../tls/credentials.js';
import { Sidecar, type SidecarOptions } from './sidecar.js';

/**
 * How an inbound listener treats callers without mTLS. `permissive`: plain HTTP is served on the
 * same port (callers without a certificate have no identity); `strict`: only mTLS with a
 * certificate the trust bundle verifies.
 */
export type MtlsMode = 'permissive' | 'strict';

/** Every {@link MtlsMode}, for validation and help texts. */
export const MTLS_MODES: readonly MtlsMode[] = ['permissive', 'strict'];

/** Options of an {@link InboundProxy}. */
export interface InboundProxyOptions
  extends Omit<SidecarOptions, 'discovery' | 'routing' | 'tls' | 'plaintext' | 'forwardClientCert' | 'tcp' | 'mtls'> {
  /** The service the local application provides: every request is for it (and policies judge it as the destination). */
  service: string;
  /** Where the local application listens, in plain HTTP. `host` defaults to `127.0.0.1`. */
  app: { host?: string; port: number };
  /**
   * The listener's certificate, key and trust bundle (a workload identity, renewed: each
   * `rotated` event swaps the secure context for new connections), and the mode. The
   * credentials must hold a certificate already (await the identity's first one).
   */
  mtls: { credentials: MeshCredentials; mode?: MtlsMode };
}

/** The local application as the one instance of its service. */
function appInstance(service: string, app: { host?: string; port: number }): ServiceInstance {
  const host = app.host ?? '127.0.0.1';
  const value = `${host.includes(':') ? `[${host}]` : host}:${app.port}`;
  return {
    id: instanceId(service, 'http', value),
    namespace: 'default',
    service,
    endpoint: { type: 'http', value, host, port: app.port },
    tags: [],
    metadata: {},
    status: 'UP',
    ttl: 0,
    registeredAt: Date.now(),
    lastHeartbeat: Date.now(),
  };
}

/** The credentials' current key, chain and trust bundle as node:tls takes them. */
function secureContextOf(credentials: MeshCredentials): SecureContextOptions {
  const { key, cert, ca } = credentials.tlsOptions();
  return { key, cert, ca };
}

function checkOptions(options: InboundProxyOptions): void {
  const issues: Array<{ path: string; message: string }> = [];
  if (typeof options.service !== 'string' || options.service === '')
    issues.push({ path: 'service', message: 'must be a non-empty string' });
  const port = options.app?.port;
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
    issues.push({ path: 'app.port', message: 'must be a port number (1-65535)' });
  const mode = options.mtls?.mode ?? 'permissive';
  if (!MTLS_MODES.includes(mode)) issues.push({ path: 'mtls.mode', message: 'must be permissive or strict' });
  if (typeof options.mtls?.credentials?.tlsOptions !== 'function')
    issues.push({ path: 'mtls.credentials', message: 'must have tlsOptions(), on() and off() (a WorkloadIdentity)' });
  if (issues.length > 0) throw new InvalidArgumentError('inbound proxy options', issues);
}

/**
 * The inbound side of a sidecar: the listener other services' proxies reach the local
 * application through, over mTLS. It terminates TLS with the workload's certificate (swapped on
 * every rotation; connections already open keep theirs), asks callers for theirs and verifies it
 * against the trust bundle, and forwards every request to the local application in plain HTTP,
 * telling it who called in `x-forwarded-client-cert` (Envoy's format: `URI=spiffe://…`). The
 * caller's verified SPIFFE ID is the peer authorization policies judge (destination: `service`).
 *
 * - `permissive` (default): the same port serves plain HTTP too (the first byte of a connection
 *   tells a TLS handshake, 0x16, from anything else); a plaintext caller, or a TLS caller without
 *   a verified certificate, has no identity — policies that name identities do not match it.
 * - `strict`: a TLS caller without a certificate the trust bundle verifies fails the handshake
 *   (a TLS-level refusal: nothing reaches the application); a plaintext caller gets one `403`
 *   with code `WEFT_ERR_FORBIDDEN` saying mTLS is required, and the connection is closed.
 *
 * It is a {@link Sidecar} whose discovery holds one endpoint, the application: access log,
 * metrics, authorization, drain and admin come with it. Its defaults differ where the caller's
 * proxy already does the job: no timeout (`timeoutMs: 0`), no retries, no outlier ejection, no
 * admin listener, `host` 0.0.0.0.
 *
 * @example
 * ```ts
 * import { WorkloadIdentity } from '@weft/adapters/weft';
 * import { InboundProxy } from '@weft/proxy/sidecar';
 *
 * const identity = new WorkloadIdentity({ url: 'http://controller:8080', token: 'secret', service: 'reviews' });
 * await identity.start();
 * const inbound = new InboundProxy({ service: 'reviews', app: { port: 9080 }, port: 15006, mtls: { credentials: identity } });
 * await inbound.listen();
 * ```
 */
export class InboundProxy extends Sidecar {
  /** The local application's service: every request goes to it. */
  readonly service: string;
  readonly mode: MtlsMode;
  private readonly credentials: MeshCredentials;
  private readonly localDiscovery: Discovery;
  private readonly onRotated = (): void => {
    try {
      this.setSecureContext(secureContextOf(this.credentials));
    } catch {
      // No certificate yet (a bundle arrived first): the listener keeps the context it has.
    }
  };

  constructor(options: InboundProxyOptions) {
    checkOptions(options);
    const { service, app, mtls, ...rest } = options;
    const mode = mtls.mode ?? 'permissive';
    const discovery = new Discovery({ sources: [new ManualSource(`inbound:${service}`, [appInstance(service, app)])] });
    const tls: TlsOptions = {
      ...secureContextOf(mtls.credentials),
      // Ask every TLS caller for its certificate; strict refuses the handshake without a verified
      // one, permissive lets it in without an identity (as it lets plain HTTP in).
      requestCert: true,
      rejectUnauthorized: mode === 'strict',
    };
    super({
      admin: false,
      host: '0.0.0.0',
      // The caller's proxy owns the call's policy: its rules' timeout, retries and ejection (of
      // this whole listener, from its side). A second layer here would cut calls its rules allow
      // longer (the default 15 s), multiply attempts, or eject the one endpoint there is.
      timeoutMs: 0,
      retry: false,
      retryBudget: false,
      outlier: false,
      ...rest,
      discovery,
      tls,
      plaintext: mode === 'strict' ? 'refuse' : 'serve',
      forwardClientCert: true,
    });
    this.service = service;
    this.mode = mode;
    this.credentials = mtls.credentials;
    this.localDiscovery = discovery;
    this.credentials.on('rotated', this.onRotated);
  }

  /** Every request is for the local application, its path untouched; the caller's Host goes on. */
  override resolve(
    target: string,
    hostHeader: string | undefined,
  ): [service: string, path: string, byHost: boolean] | undefined {
    if (target.charCodeAt(0) !== 47) return undefined;
    return [this.service, target, hostHeader !== undefined];
  }

  override async drain(): Promise<void> {
    this.credentials.off('rotated', this.onRotated);
    await super.drain();
    this.localDiscovery.close();
  }

  override async close(): Promise<void> {
    this.credentials.off('rotated', this.onRotated);
    await super.close();
    this.localDiscovery.close();
  }
}
