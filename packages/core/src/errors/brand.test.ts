import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError, isTimeoutError, isWeftError, TimeoutError, WeftError } from '../index.js';
import { NoRouteError } from '../rules/no-route-error.js';
import { brandErrorClass } from './brand.js';

// Another copy of Weft (the CommonJS build next to the ESM one) has classes of its own that
// carry the same brands. Branding look-alike classes here stands in for loading that copy; the
// real builds are checked against each other by scripts/check-tarballs.mjs.
class OtherCopyWeftError extends Error {
  static {
    brandErrorClass(OtherCopyWeftError, 'WeftError');
  }
  readonly code = 'WEFT_ERR_CLOSED';
}
class OtherCopyTimeoutError extends OtherCopyWeftError {
  static {
    brandErrorClass(OtherCopyTimeoutError, 'TimeoutError');
  }
}

describe('error brands', () => {
  it('recognise an error of another copy of Weft, through instanceof and the guards', () => {
    const closed = new OtherCopyWeftError('closed');
    expect(closed instanceof WeftError).toBe(true);
    expect(isWeftError(closed)).toBe(true);
    expect(isWeftError(closed, 'WEFT_ERR_CLOSED')).toBe(true);
    expect(isWeftError(closed, 'WEFT_ERR_TIMEOUT')).toBe(false);
    expect(closed instanceof TimeoutError).toBe(false);

    const timeout = new OtherCopyTimeoutError('timeout');
    expect(timeout instanceof TimeoutError).toBe(true);
    expect(isTimeoutError(timeout)).toBe(true);
    expect(timeout instanceof WeftError).toBe(true);
  });

  it('still tell the classes of one copy apart', () => {
    const closed = new ClosedError('registry');
    expect(closed instanceof WeftError).toBe(true);
    expect(closed instanceof ClosedError).toBe(true);
    expect(closed instanceof InvalidArgumentError).toBe(false);
    expect(new NoRouteError('reviews') instanceof ClosedError).toBe(false);
    expect(new Error('plain') instanceof WeftError).toBe(false);
    for (const value of [null, undefined, 'WEFT_ERR_CLOSED', 42, {}, { code: 'WEFT_ERR_CLOSED' }])
      expect(isWeftError(value)).toBe(false);
  });

  it("leave an application's own subclass to the ordinary prototype check", () => {
    class AppError extends WeftError {}
    const mine = new AppError('WEFT_ERR_CLOSED', 'mine');
    expect(mine instanceof AppError).toBe(true);
    expect(mine instanceof WeftError).toBe(true);
    expect(new ClosedError('x') instanceof AppError).toBe(false);
  });

  it('do not show in logs or JSON', () => {
    const e = new ClosedError('registry');
    expect(Object.getOwnPropertySymbols(e)).toEqual([]);
    expect(JSON.stringify(e)).toBe('{"code":"WEFT_ERR_CLOSED","status":503,"message":"registry is closed"}');
    expect((e as unknown as Record<symbol, unknown>)[Symbol.for('weft.error')]).toBe(true);
    expect((e as unknown as Record<symbol, unknown>)[Symbol.for('weft.error.ClosedError')]).toBe(true);
  });
});
