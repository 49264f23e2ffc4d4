/**
 * Error classes recognised by any copy of Weft.
 *
 * A process can hold two copies of a Weft package: the ESM and the CommonJS build (an app that
 * `import`s `@weft/core` next to a dependency that `require`s it — the dual-package hazard), or
 * two installed versions. Each copy has its own classes, so a plain `instanceof` (and anything
 * built on it, like `isWeftError`) would answer false for an error thrown by the other copy.
 * A branded class is recognised by a registry-wide symbol (`Symbol.for`) on its prototype
 * instead of by prototype identity, as undici does for its errors.
 */

/** The class-to-brand map of this copy; the brands themselves are shared by every copy. */
const brands = new WeakMap<object, symbol>();

/**
 * `instanceof` for branded classes: true when `value` carries the class's brand, whichever
 * copy made it. An unbranded subclass (say an application's `class MyError extends WeftError`)
 * inherits this method as a static, and gets the ordinary prototype-chain answer.
 */
function hasInstance(this: unknown, value: unknown): boolean {
  const brand = typeof this === 'function' ? brands.get(this) : undefined;
  if (brand === undefined) return Function.prototype[Symbol.hasInstance].call(this, value);
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

/**
 * Brands an error class so that `value instanceof cls` (and the `is…Error` guards, which use
 * it) recognise instances made by any copy of the package that defined it. Call it once, in a
 * static block of the class. Instances carry `Symbol.for(`weft.error.${name}`)` through their
 * prototype (not enumerable, so it never shows in logs or JSON); `WeftError` itself carries
 * `Symbol.for('weft.error')`.
 *
 * @param name - unique across every Weft package: the class name, such as `TimeoutError`.
 */
export function brandErrorClass(cls: abstract new (...args: never[]) => Error, name: string): void {
  const brand = Symbol.for(name === 'WeftError' ? 'weft.error' : `weft.error.${name}`);
  brands.set(cls, brand);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, { value: hasInstance, configurable: true });
}
