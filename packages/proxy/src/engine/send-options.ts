import type { Dispatcher } from 'undici';

/** The fields of `Dispatcher.DispatchOptions` undici's Request reads, copied into one fixed shape. */
class SendOptions {
  readonly method: string;
  readonly path: string;
  readonly headers: Dispatcher.DispatchOptions['headers'];
  body: Dispatcher.DispatchOptions['body'];
  readonly query: unknown;
  readonly idempotent: boolean | undefined;
  readonly blocking: boolean | undefined;
  readonly upgrade: unknown;
  readonly headersTimeout: number | null | undefined;
  readonly bodyTimeout: number | null | undefined;
  readonly reset: boolean | undefined;
  readonly expectContinue: boolean | undefined;
  readonly typeOfService: number | null | undefined;
  readonly servername: unknown;

  constructor(o: Dispatcher.DispatchOptions, path: string, headers: Dispatcher.DispatchOptions['headers']) {
    this.method = o.method;
    this.path = path;
    this.headers = headers;
    this.body = o.body ?? null;
    this.query = o.query;
    this.idempotent = o.idempotent;
    this.blocking = o.blocking;
    this.upgrade = o.upgrade;
    this.headersTimeout = o.headersTimeout;
    this.bodyTimeout = o.bodyTimeout;
    this.reset = o.reset;
    this.expectContinue = o.expectContinue;
    this.typeOfService = o.typeOfService;
    this.servername = (o as { servername?: unknown }).servername;
  }
}

/**
 * The options each attempt sends: only what undici's Request reads, in a fixed shape (cheaper
 * than spreading the caller's options, which carry signal, opaque, callbacks…).
 */
export function sendOptions(
  opts: Dispatcher.DispatchOptions,
  path: string,
  headers: Dispatcher.DispatchOptions['headers'],
): Dispatcher.DispatchOptions {
  return new SendOptions(opts, path, headers) as unknown as Dispatcher.DispatchOptions;
}
