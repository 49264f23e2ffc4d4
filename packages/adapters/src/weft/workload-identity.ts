import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import {
  type BackoffOptions,
  formatSpiffeId,
  parseSpiffeId,
  type SpiffeId,
  type Subscription,
  type ValidationIssue,
} from '@weft/core';
import { EventEmitter } from 'eventemitter3';
import { BackoffState } from '../internal/backoff.js';
import { type AdapterLogger, asError, describeError, processWarningLogger } from '../internal/log.js';
import { type ControlPlaneConnectionOptions, checkMs, throwIfIssues } from './connection-options.js';
import type { FollowOptions } from './follow-options.js';
import { FollowedRead, resolveFollowingSource } from './followed-read.js';
import { ControlPlaneHttp } from './http.js';
import { loadX509 } from './load-x509.js';

/** Options of {@link WorkloadIdentity}. */
export interface WorkloadIdentityOptions extends ControlPlaneConnectionOptions, FollowOptions {
  /**
   * The service this workload is an instance of; the identity is
   * `spiffe://<td>/ns/<namespace>/svc/<service>`, in the namespace the token gives (the
   * controller says which with the trust bundle), or `namespace` when given (with an admin token).
   */
  service: string;
  /** The trust domain to ask an identity in. Default: the controller's (from its trust bundle). */
  trustDomain?: string;
  /**
   * When to renew, as a share of the certificate's remaining lifetime when it arrived. Default 0.5
   * (half-life), less a random `renewJitter` share so that workloads started together do not renew
   * together.
   */
  renewAt?: number;
  /** Up to this share of the lifetime earlier than `renewAt`, at random. Default 0.1. */
  renewJitter?: number;
  /** Backoff between failed renewals. Default 1 s doubling to 60 s, full jitter (never past the expiry). */
  retryBackoff?: BackoffOptions;
  /** Where warnings go (`WEFT_WARN_IDENTITY_RENEWAL`, `WEFT_WARN_IDENTITY_EXPIRED`, watch warnings). Default: process warnings. */
  logger?: AdapterLogger;
  /** Name in logs. Default `identity:<namespace>/<service>`. */
  name?: string;
}

/** The workload's current certificate and key, PEM. */
export interface WorkloadCertificate {
  /** `spiffe://…`, the certificate's URI SAN. */
  readonly spiffeId: string;
  /** The private key (PKCS#8 PEM), generated here; it never left the process. */
  readonly key: string;
  /** The leaf, then its intermediates: what to present in a handshake. */
  readonly chain: readonly string[];
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Events of {@link WorkloadIdentity}. */
export interface WorkloadIdentityEvents {
  /** A new certificate (first, or renewed) or a new trust bundle: swap the secure context now. */
  rotated: [reason: 'certificate' | 'bundle'];
  /** A request or the bundle watch failed; the current certificate and bundle stay in use. */
  error: [error: Error];
  /** The certificate expired before it could be renewed: no valid identity until a renewal succeeds. */
  expired: [certificate: WorkloadCertificate];
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RENEW_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000, jitter: 'full' };
/** setTimeout's largest delay; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The controller's certificate answer, as far as the client needs it. */
interface IssuedBody {
  spiffeId: string;
  chain: string[];
  serialNumber: string;
}

function isIssued(body: unknown): body is IssuedBody {
  const b = body as Partial<IssuedBody> | null;
  return (
    typeof b?.spiffeId === 'string' &&
    Array.isArray(b.chain) &&
    b.chain.length > 0 &&
    b.chain.every((c) => typeof c === 'string') &&
    typeof b.serialNumber === 'string'
  );
}

/** True when the last certificate of `chain` is one of `roots` or is signed by one of them. */
function chainsTo(chain: readonly string[], roots: readonly string[]): boolean {
  const top = new X509Certificate(chain[chain.length - 1] as string);
  return roots.some((pem) => {
    const root = new X509Certificate(pem);
    return top.fingerprint256 === root.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey));
  });
}

function bundleRoots(body: unknown): { trustDomain: string; roots: string[]; namespace: string | undefined } {
  const b = body as { trustDomain?: unknown; roots?: unknown; namespace?: unknown } | null;
  if (typeof b?.trustDomain !== 'string' || !Array.isArray(b.roots) || b.roots.length === 0)
    throw new Error('the trust bundle is not {trustDomain, roots: [PEM, …]}');
  for (const pem of b.roots) new X509Certificate(pem as string); // throws on a bad root
  const namespace = typeof b.namespace === 'string' ? b.namespace : undefined;
  return { trustDomain: b.trustDomain, roots: b.roots as string[], namespace };
}

/**
 * A workload's identity, kept current: it generates an ECDSA P-256 key pair here (the private
 * key never leaves the process), sends a PKCS#10 request for
 * `spiffe://<trust domain>/ns/<namespace>/svc/<service>` to the controller
 * (`POST /v1/identity/certificates`, with the connection's token), renews it at half its
 * lifetime (with jitter; a fresh key each time), and follows the controller's trust bundle
 * (`GET /v1/identity/bundle`, pushed over SSE like rules and endpoints).
 *
 * A renewal that fails is retried with backoff while the current certificate stays in use until
 * it expires (`WEFT_WARN_IDENTITY_RENEWAL` once per failure streak, `WEFT_WARN_IDENTITY_EXPIRED`
 * and `expired` if it does). Every new certificate or bundle emits `rotated`: a TLS server or
 * agent swaps in {@link WorkloadIdentity.secureContext} (`server.setSecureContext(identity.tlsOptions())`), and
 * connections already open keep the context they were made with.
 *
 * Needs the optional peers `@peculiar/x509` and `reflect-metadata` (and `undici`).
 *
 * ```ts
 * const identity = new WorkloadIdentity({ url: 'http://cp:8080', token, service: 'reviews' });
 * await identity.start();
 * const server = tls.createServer({ ...identity.tlsOptions(), requestCert: true }, onSocket);
 * identity.on('rotated', () => server.setSecureContext(identity.tlsOptions()));
 * ```
 */
export class WorkloadIdentity extends EventEmitter<WorkloadIdentityEvents> {
  readonly name: string;
  readonly service: string;
  private readonly http: ControlPlaneHttp;
  private readonly read: FollowedRead;
  private readonly logger: AdapterLogger;
  private readonly renewAt: number;
  private readonly renewJitter: number;
  private readonly backoff: BackoffState;
  private readonly wantedTrustDomain: string | undefined;
  /** The `namespace` option; without it, the namespace the controller says the token gives. */
  private readonly wantedNamespace: string | undefined;
  private namespace: string | undefined;
  private current: WorkloadCertificate | undefined;
  private roots: readonly string[] | undefined;
  private trustDomain: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private bundleWatch: Subscription | undefined;
  private starting: Promise<void> | undefined;
  private failing = false;
  private closed = false;
  /** Who waits for the first bundle: called with nothing when it comes, with the error when a read fails first. */
  private bundleWaiters = new Set<(error?: Error) => void>();
  /** A certificate request is in flight (renewals never overlap). */
  private renewing = false;
  /** start() has settled: from then on, a bundle that comes without a certificate asks for one. */
  private startSettled = false;

  constructor(options: WorkloadIdentityOptions) {
    super();
    const issues: ValidationIssue[] = [];
    const { connection, follow } = resolveFollowingSource(options, issues);
    if (typeof options?.service !== 'string' || options.service === '')
      issues.push({ path: 'service', message: 'is required: the service this workload is an instance of' });
    else
      try {
        formatSpiffeId({
          trustDomain: options.trustDomain ?? 'weft.local',
          namespace: connection.namespace,
          service: options.service,
        });
      } catch (err) {
        for (const i of (err as { issues?: ValidationIssue[] }).issues ?? []) issues.push(i);
      }
    const share = (path: string, v: unknown, max: number) => {
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= max)))
        issues.push({ path, message: `must be a number between 0 and ${max}` });
    };
    share('renewAt', options?.renewAt, 1);
    share('renewJitter', options?.renewJitter, 0.5);
    checkMs(issues, 'retryBackoff.baseMs', options?.retryBackoff?.baseMs);
    checkMs(issues, 'retryBackoff.maxMs', options?.retryBackoff?.maxMs);
    throwIfIssues('workload identity options', issues);
    this.service = options.service;
    this.wantedNamespace = connection.sendNamespace ? connection.namespace : undefined;
    this.wantedTrustDomain = options.trustDomain;
    this.name = options.name ?? `identity:${options.namespace ?? '(token)'}/${options.service}`;
    this.logger = options.logger ?? processWarningLogger;
    this.renewAt = options.renewAt ?? 0.5;
    this.renewJitter = options.renewJitter ?? 0.1;
    this.backoff = new BackoffState({ ...RENEW_BACKOFF, ...options.retryBackoff });
    this.http = new ControlPlaneHttp(connection);
    this.read = new FollowedRead(connection, '/v1/identity/bundle', follow, { source: this.name, logger: this.logger });
  }

  /** The certificate in use, once one was issued (it may have expired: see `expired`). */
  get certificate(): WorkloadCertificate | undefined {
    return this.current;
  }

  /** The trust bundle's roots (PEM), once received. */
  get bundle(): readonly string[] | undefined {
    return this.roots;
  }

  /** The identity asked for, once the trust domain is known. */
  get spiffeId(): SpiffeId | undefined {
    const trustDomain = this.wantedTrustDomain ?? this.trustDomain;
    const namespace = this.wantedNamespace ?? this.namespace;
    return trustDomain === undefined || namespace === undefined
      ? undefined
      : { trustDomain, namespace, service: this.service };
  }

  /**
   * Follows the trust bundle and gets the first certificate. Resolves once both are in hand;
   * rejects with the first certificate request's failure (a 403 for an identity the token does
   * not allow, the controller away…), and keeps retrying in the background until closed.
   */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.bundleWatch = this.read.subscribe({
        state: (state) => {
          this.onBundle(bundleRoots(state.body));
          return true;
        },
        error: (error) => {
          for (const w of this.bundleWaiters) w(error);
          this.bundleWaiters.clear();
          this.emitError(error);
        },
      });
      // The trust domain and the namespace come with the bundle, unless they were given.
      if (this.wantedTrustDomain === undefined || this.wantedNamespace === undefined) await this.firstBundle();
      try {
        await this.renew();
      } catch (err) {
        this.scheduleRetry(err);
        throw err;
      }
      await this.firstBundle();
    })().finally(() => {
      this.startSettled = true;
    });
    return this.starting;
  }

  /** `{key, cert, ca}` for `tls.createServer`, `tls.connect` or `server.setSecureContext`. */
  tlsOptions(): Required<Pick<SecureContextOptions, 'key' | 'cert' | 'ca'>> {
    const cert = this.current;
    if (cert === undefined || this.roots === undefined)
      throw new Error(`${this.name}: no certificate yet (await start())`);
    return { key: cert.key, cert: cert.chain.join(''), ca: [...this.roots] };
  }

  /** A TLS secure context of the current certificate, key and bundle. */
  secureContext(): SecureContext {
    return createSecureContext(this.tlsOptions());
  }

  /** Stops renewing and following the bundle, and closes the connections. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiryTimer);
    for (const w of this.bundleWaiters) w();
    this.bundleWatch?.unsubscribe();
    await this.read.close();
    await this.http.close();
  }

  /** Resolves with the first trust bundle; rejects when a read of it fails before one came. */
  private firstBundle(): Promise<void> {
    if (this.roots !== undefined || this.closed) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.bundleWaiters.add((error) => (error === undefined ? resolve() : reject(error))),
    );
  }

  /** A bundle from the controller: kept, and the certificate renewed at once when no root vouches for it any more. */
  private onBundle(next: { trustDomain: string; roots: string[]; namespace: string | undefined }): void {
    const changed = this.roots === undefined || next.roots.join('') !== this.roots.join('');
    this.trustDomain = next.trustDomain;
    this.namespace = next.namespace ?? this.namespace;
    this.roots = next.roots;
    for (const w of this.bundleWaiters) w();
    this.bundleWaiters.clear();
    if (!changed) return;
    if (this.current === undefined) {
      // start() failed on the bundle before any certificate was asked for: ask now.
      if (this.startSettled && !this.renewing && this.timer === undefined) this.setTimer(0);
      return;
    }
    this.emit('rotated', 'bundle');
    // The CA rotated without keeping the root of our certificate: peers would refuse it; renew now.
    if (!chainsTo(this.current.chain, next.roots)) this.setTimer(0);
  }

  /** Generates a key pair, asks for a certificate, and puts it in use. */
  private async renew(): Promise<void> {
    this.renewing = true;
    try {
      await this.renewOnce();
    } finally {
      this.renewing = false;
    }
  }

  private async renewOnce(): Promise<void> {
    const x509 = await loadX509();
    const id = this.spiffeId;
    if (id === undefined) throw new Error(`${this.name}: the controller did not say the namespace of the token`);
    const uri = formatSpiffeId(id);
    const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: EC_P256,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }])],
    });
    const res = await this.http.json({
      method: 'POST',
      path: '/v1/identity/certificates',
      json: { csr: csr.toString('pem'), service: this.service },
    });
    if (!isIssued(res.body)) throw new Error('the controller answered without a certificate chain');
    const leaf = new X509Certificate(res.body.chain[0] as string);
    // The certificate must be for the key made here and the identity asked for.
    const spiffe = parseSpiffeId(leaf.subjectAltName?.replace(/^URI:/, '') ?? '', 'certificate.subjectAltName');
    if (formatSpiffeId(spiffe) !== uri) throw new Error(`the controller issued ${formatSpiffeId(spiffe)}, not ${uri}`);
    const key = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    this.current = {
      spiffeId: uri,
      key: `${key}\n`,
      chain: res.body.chain,
      serialNumber: leaf.serialNumber,
      notBefore: leaf.validFromDate,
      notAfter: leaf.validToDate,
    };
    this.backoff.reset();
    if (this.failing) {
      this.failing = false;
      this.logger.debug?.(`${this.name}: certificate renewed after failures`, { event: 'renewed' });
    }
    this.scheduleRenewal();
    this.emit('rotated', 'certificate');
  }

  /** Renews at `renewAt` of the remaining lifetime, less up to `renewJitter` of it. */
  private scheduleRenewal(): void {
    const cert = this.current as WorkloadCertificate;
    const remaining = Math.max(0, cert.notAfter.getTime() - Date.now());
    const share = Math.max(0, this.renewAt - this.renewJitter * Math.random());
    this.setTimer(remaining * share);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.onExpired(cert), Math.min(remaining, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  private scheduleRetry(err: unknown): void {
    if (this.closed) return;
    const error = asError(err);
    if (!this.failing) {
      this.failing = true;
      const until =
        this.current === undefined
          ? 'no certificate yet'
          : `keeping the current one until ${this.current.notAfter.toISOString()}`;
      this.logger.warn({
        code: 'WEFT_WARN_IDENTITY_RENEWAL',
        message: `${this.name}: the certificate could not be renewed (${describeError(error)}); retrying with backoff, ${until}`,
        source: this.name,
        cause: error,
      });
    }
    this.emitError(error);
    let delay = this.backoff.next();
    // Never wait past the expiry for the next try when there is time left before it.
    if (this.current !== undefined) {
      const left = this.current.notAfter.getTime() - Date.now();
      if (left > 0) delay = Math.min(delay, Math.max(left / 2, 50));
    }
    this.setTimer(delay);
  }

  private setTimer(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(
      () => {
        this.renew().catch((err: unknown) => this.scheduleRetry(err));
      },
      Math.min(delayMs, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  private onExpired(cert: WorkloadCertificate): void {
    if (this.closed || this.current !== cert) return;
    if (cert.notAfter.getTime() > Date.now()) {
      this.scheduleRenewal(); // a timer capped at MAX_TIMER_MS: not yet
      return;
    }
    this.logger.warn({
      code: 'WEFT_WARN_IDENTITY_EXPIRED',
      message: `${this.name}: the certificate ${cert.spiffeId} expired at ${cert.notAfter.toISOString()} before it could be renewed; renewal goes on`,
      source: this.name,
    });
    this.emit('expired', cert);
  }

  private emitError(error: Error): void {
    // An EventEmitter without an `error` listener would not throw here (eventemitter3), but say so in debug.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.logger.debug?.(`${this.name}: ${describeError(error)}`, { event: 'identity-error' });
  }
}
