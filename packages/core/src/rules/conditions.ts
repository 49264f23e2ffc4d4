import { hasAllTags } from '../model/tags.js';
import type { Match } from './match-schema.js';
import type { RuleRequest } from './request.js';
import type { UriInput } from './route-schema.js';
import type { RequestSlot, SlotTable } from './slots.js';
import { ValueMatcher, type ValueMatchSpec } from './value-matcher.js';

const SOURCE_NAME = 0;
const SOURCE_TAGS = 1;
const METHOD = 2;
const VALUE = 3;

/** Why a condition failed, for explain output. */
export interface ConditionFailure {
  /** The condition's place in the rule, e.g. `match.headers.Cookie` or `route.uri.prefix`. */
  readonly condition: string;
  /** What the condition wants. */
  readonly expected: string;
  /** What the request had (undefined: nothing). */
  readonly actual: string | undefined;
}

/**
 * One compiled condition of a rule. Identical conditions of different rules are the same object
 * (interned per rule set), and regex conditions remember their result for the current
 * evaluation, so a pattern shared by a route rule and an action rule runs once per request.
 */
export class Condition {
  private memoEpoch = -1;
  private memo = false;

  constructor(
    private readonly kind: number,
    /** Canonical form: equal keys mean equivalent conditions. */
    readonly key: string,
    /** Relative cost; rules test cheap conditions first (the outcome does not depend on order). */
    readonly cost: number,
    private readonly values: readonly string[],
    private readonly slot: RequestSlot | undefined,
    private readonly matcher: ValueMatcher | undefined,
  ) {}

  /** Whether `request` meets this condition. */
  test(request: RuleRequest, epoch: number): boolean {
    switch (this.kind) {
      case SOURCE_NAME:
        return request.source !== undefined && request.source.name === this.values[0];
      case SOURCE_TAGS:
        return request.source !== undefined && hasAllTags(request.source.tags ?? [], this.values);
      case METHOD: {
        const m = request.method;
        if (m === undefined) return false;
        // Rule methods are upper-cased at compile time; only an unusual lower-case request pays for a copy.
        return this.values.includes(m) || this.values.includes(m.toUpperCase());
      }
    }
    const matcher = this.matcher as ValueMatcher;
    if (!matcher.costly) return matcher.test((this.slot as RequestSlot).get(request, epoch));
    if (this.memoEpoch === epoch) return this.memo;
    const result = matcher.test((this.slot as RequestSlot).get(request, epoch));
    this.memoEpoch = epoch;
    this.memo = result;
    return result;
  }

  /** Explains a failed test (call only when {@link test} returned false). */
  failure(where: string, request: RuleRequest, epoch: number): ConditionFailure {
    switch (this.kind) {
      case SOURCE_NAME:
        return { condition: where, expected: `= ${JSON.stringify(this.values[0])}`, actual: request.source?.name };
      case SOURCE_TAGS:
        return {
          condition: where,
          expected: `carries ${this.values.join(', ')}`,
          actual: request.source === undefined ? undefined : (request.source.tags ?? []).join(', '),
        };
      case METHOD:
        return { condition: where, expected: `one of ${this.values.join(', ')}`, actual: request.method };
    }
    return {
      condition: where,
      expected: (this.matcher as ValueMatcher).description,
      actual: (this.slot as RequestSlot).get(request, epoch),
    };
  }
}

/** A condition together with where the rule declared it. */
export interface PlacedCondition {
  readonly condition: Condition;
  /** e.g. `match.headers.Cookie`. */
  readonly where: string;
}

/** Interns conditions for one rule set. */
export class ConditionTable {
  private readonly byKey = new Map<string, Condition>();
  constructor(readonly slots: SlotTable) {}

  private intern(key: string, make: () => Condition): Condition {
    let c = this.byKey.get(key);
    if (c === undefined) {
      c = make();
      this.byKey.set(key, c);
    }
    return c;
  }

  private value(slot: RequestSlot, spec: ValueMatchSpec, baseCost: number): Condition {
    const matcher = new ValueMatcher(spec);
    const key = `${slot.kind}:${slot.name}:${matcher.key}`;
    // Regexes cost an order of magnitude more than string tests: run them last.
    return this.intern(key, () => new Condition(VALUE, key, baseCost + (matcher.costly ? 10 : 0), [], slot, matcher));
  }

  /**
   * Compiles the conditions of a rule: its `match` block plus, for route rules, Amalgam8's
   * `route.uri.path` / `route.uri.prefix`, which also restrict the requests a route applies to.
   * Returned in declaration order; sort by `cost` for testing.
   */
  compile(match: Match | undefined, uri: UriInput | undefined): PlacedCondition[] {
    const out: PlacedCondition[] = [];
    const m = match ?? {};
    if (m.source?.name !== undefined) {
      const name = m.source.name;
      out.push({
        where: 'match.source.name',
        condition: this.intern(
          `source:${name}`,
          () => new Condition(SOURCE_NAME, `source:${name}`, 0, [name], undefined, undefined),
        ),
      });
    }
    if (m.source?.tags !== undefined && m.source.tags.length > 0) {
      const tags = [...new Set(m.source.tags)].sort();
      const key = `source_tags:${JSON.stringify(tags)}`;
      out.push({
        where: 'match.source.tags',
        condition: this.intern(key, () => new Condition(SOURCE_TAGS, key, 1, tags, undefined, undefined)),
      });
    }
    if (m.method !== undefined) {
      const methods = [
        ...new Set((typeof m.method === 'string' ? [m.method] : m.method).map((x) => x.toUpperCase())),
      ].sort();
      const key = `method:${methods.join(',')}`;
      out.push({
        where: 'match.method',
        condition: this.intern(key, () => new Condition(METHOD, key, 0, methods, undefined, undefined)),
      });
    }
    if (m.path !== undefined) out.push({ where: 'match.path', condition: this.value(this.slots.path(), m.path, 2) });
    if (uri?.path !== undefined)
      out.push({ where: 'route.uri.path', condition: this.value(this.slots.path(), { exact: uri.path }, 2) });
    if (uri?.prefix !== undefined)
      out.push({ where: 'route.uri.prefix', condition: this.value(this.slots.path(), { prefix: uri.prefix }, 2) });
    for (const [name, spec] of Object.entries(m.headers ?? {})) {
      // Amalgam8's form: a bare string is a regex.
      const s: ValueMatchSpec = typeof spec === 'string' ? { regex: spec } : spec;
      out.push({ where: `match.headers.${name}`, condition: this.value(this.slots.header(name), s, 3) });
    }
    for (const [name, spec] of Object.entries(m.cookies ?? {}))
      out.push({ where: `match.cookies.${name}`, condition: this.value(this.slots.cookie(name), spec, 4) });
    for (const [name, spec] of Object.entries(m.query ?? {}))
      out.push({ where: `match.query.${name}`, condition: this.value(this.slots.query(name), spec, 5) });
    return out;
  }
}
