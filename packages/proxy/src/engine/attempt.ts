import type { Duplex } from 'node:stream';
import type { TimerHandle } from '@weft/core';
import type { Dispatcher } from 'undici';
import type { EndpointEntry } from './service-table.js';
import type { Picker } from './types.js';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Headers = Record<string, string | string[] | undefined>;

/**
 * The call an {@link Attempt} reports to (`MeshCall`): one controller per call, many attempts.
 * An interface, so attempts do not import the call (no import circle).
 */
export interface AttemptOwner {
  /** The caller paused the response: a new attempt starts paused. */
  readonly paused: boolean;
  /** The attempt in flight (or the last one). */
  readonly attempt: Attempt | undefined;
  /** The attempt whose response goes to the caller, once one does. */
  readonly committed: Attempt | undefined;
  /** The caller's handler. */
  readonly handler: Handler;
  onAttemptUpgrade(a: Attempt, controller: Controller, status: number, headers: Headers, socket: Duplex): void;
  onAttemptHeaders(a: Attempt, controller: Controller, status: number, headers: Headers, statusText?: string): void;
  forwardData(chunk: Buffer): void;
  onAttemptEnd(a: Attempt, trailers: Headers): void;
  onAttemptError(a: Attempt, error: Error): void;
  onAttemptRequestSent(): void;
}

/** What an {@link Attempt} starts with. */
export interface AttemptInit {
  /** 1-based number of the attempt within its call. */
  readonly no: number;
  /** The endpoint it goes to. */
  readonly entry: EndpointEntry;
  /** The endpoint's index in `picker`. */
  readonly index: number;
  /** The picker that counted its start (its end is reported there, even after a rebuild). */
  readonly picker: Picker<EndpointEntry>;
  /** The endpoint breaker's token. */
  readonly token: number;
  /** A transparent retry (a keep-alive socket the server had closed): not counted as a try. */
  readonly transparent: boolean;
  /** When it started (`performance.now()`). */
  readonly startedAt: number;
}

/** One try of a call: the handler undici's Pool calls back. Stale attempts are ignored by the call. */
export class Attempt implements Handler {
  controller: Controller | null = null;
  /** Outcome fed to health / history already (discarded, timed out, failed, or finished). */
  settled = false;
  /** Abort as soon as undici starts it (it timed out or was abandoned while queued). */
  dead: Error | null = null;
  /** Response discarded for a retry: its data is dropped. */
  discarded = false;
  status = 0;
  headersAt = 0;
  timer: TimerHandle | undefined;

  readonly no: number;
  readonly entry: EndpointEntry;
  readonly index: number;
  readonly picker: Picker<EndpointEntry>;
  readonly token: number;
  readonly transparent: boolean;
  readonly startedAt: number;

  constructor(
    readonly call: AttemptOwner,
    init: AttemptInit,
  ) {
    this.no = init.no;
    this.entry = init.entry;
    this.index = init.index;
    this.picker = init.picker;
    this.token = init.token;
    this.transparent = init.transparent;
    this.startedAt = init.startedAt;
  }

  onRequestStart(controller: Controller, _context: unknown): void {
    if (this.dead !== null) {
      controller.abort(this.dead);
      return;
    }
    this.controller = controller;
    if (this.call.paused) controller.pause();
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.call.onAttemptUpgrade(this, controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.call.onAttemptHeaders(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.call.committed === this) this.call.forwardData(chunk);
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    this.call.onAttemptEnd(this, trailers);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.call.onAttemptError(this, error);
  }

  onBodySent(chunk: Buffer): void {
    if (this.call.attempt === this) this.call.handler.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.call.onAttemptRequestSent();
    if (this.call.attempt === this) this.call.handler.onRequestSent?.();
  }
}
