import { brandErrorClass } from './brand.js';
import { type ErrorCode, ErrorCodes } from './codes.js';

/** Options common to every {@link WeftError}. */
export interface WeftErrorOptions {
  /** The underlying error, kept for diagnosis (standard `Error.cause`). */
  cause?: unknown;
}

/**
 * Base class of every error Weft throws. `code` is stable and documented in {@link ErrorCodes};
 * match on it (or use {@link isWeftError}) rather than on the message. `instanceof WeftError`
 * (and of each subclass Weft exports) also holds for an error thrown by another copy of Weft,
 * such as the CommonJS build loaded next to the ESM one (see {@link brandErrorClass}).
 */
export class WeftError extends Error {
  static {
    brandErrorClass(WeftError, 'WeftError');
  }

  /** Stable machine-readable code, e.g. `WEFT_ERR_UNKNOWN_INSTANCE`. */
  readonly code: ErrorCode;
  /** The HTTP status the reference servers map this error to. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: WeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeftError';
    this.code = code;
    this.status = ErrorCodes[code].status;
  }

  /** A JSON body for wire responses: `{code, status, message}` (and issues on validation errors). */
  toJSON(): Record<string, unknown> {
    return { code: this.code, status: this.status, message: this.message };
  }
}

/**
 * True when `error` is a {@link WeftError}, optionally with the given code — from this copy of
 * Weft or any other (the ESM and CommonJS builds recognise each other's errors).
 */
export function isWeftError<C extends ErrorCode>(error: unknown, code?: C): error is WeftError & { code: C } {
  return error instanceof WeftError && (code === undefined || error.code === code);
}
