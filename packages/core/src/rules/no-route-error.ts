import { brandErrorClass } from '../errors/brand.js';
import { WeftError, type WeftErrorOptions } from '../errors/weft-error.js';

/**
 * Route rules exist for the destination but none matches the request (HTTP 412, as in
 * Amalgam8). Raised by the proxy for a `no_match` decision.
 */
export class NoRouteError extends WeftError {
  static {
    brandErrorClass(NoRouteError, 'NoRouteError');
  }

  /** The service that was called. */
  readonly destination: string;
  /** The controller revision of the rules evaluated, if known. */
  readonly revision: number | undefined;

  constructor(destination: string, revision?: number, options: WeftErrorOptions = {}) {
    super(
      'WEFT_ERR_NO_ROUTE',
      `No route rule of "${destination}"${revision === undefined ? '' : ` (revision ${revision})`} matches the request`,
      options,
    );
    this.name = 'NoRouteError';
    this.destination = destination;
    this.revision = revision;
  }
}
