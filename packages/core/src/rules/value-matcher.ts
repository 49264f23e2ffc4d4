import { compilePattern, type PatternTester } from './regex.js';
import { matchesSegment, planRegex } from './regex-plan.js';

const EXACT = 0;
const PREFIX = 1;
const SUFFIX = 2;
const CONTAINS = 3;
const REGEX = 4;
const PRESENT = 5;
const ABSENT = 6;
const SEGMENT = 7;
const OP_NAMES = ['exact', 'prefix', 'suffix', 'contains', 'regex', 'present', 'absent', 'segment'] as const;

/** A condition on one string value, as a rule writes it; validation ensured exactly one field is set. */
export interface ValueMatchSpec {
  readonly exact?: string | undefined;
  readonly prefix?: string | undefined;
  readonly regex?: string | undefined;
  readonly present?: true | undefined;
  readonly absent?: true | undefined;
}

/**
 * A compiled condition on one string value. Regexes are compiled once here, on the engine
 * {@link compilePattern} chose for them, and those that are literals in disguise are turned into
 * string tests ({@link planRegex}).
 */
export class ValueMatcher {
  private readonly op: number;
  private readonly literal: string;
  private readonly tester: PatternTester | undefined;
  /** Canonical form, equal for equivalent conditions (interning, lint). */
  readonly key: string;
  /** Human form for explain output, e.g. `regex /^(.*?;)?(user=jason)(;.*)?$/`. */
  readonly description: string;
  /** Whether testing runs a regex or scans the value (rule sets test cheap conditions first and cache these). */
  readonly costly: boolean;

  constructor(spec: ValueMatchSpec) {
    // `!== undefined` rather than `in`: an explicit `"exact": undefined` next to the real field is valid input.
    if (spec.exact !== undefined) {
      this.op = EXACT;
      this.literal = spec.exact;
      this.description = `= ${JSON.stringify(spec.exact)}`;
    } else if (spec.prefix !== undefined) {
      this.op = PREFIX;
      this.literal = spec.prefix;
      this.description = `starts with ${JSON.stringify(spec.prefix)}`;
    } else if (spec.regex !== undefined) {
      const compiled = compilePattern(spec.regex);
      // Validation compiled every pattern already; failing here is a programming error.
      if (!compiled.ok) throw new Error(compiled.message);
      const { regex, tester } = compiled.pattern;
      const plan = planRegex(regex.source, regex.flags);
      this.description = `matches /${spec.regex}/`;
      switch (plan.kind) {
        case 'exact':
          this.op = EXACT;
          this.literal = plan.literal;
          break;
        case 'prefix':
          this.op = PREFIX;
          this.literal = plan.literal;
          break;
        case 'suffix':
          this.op = SUFFIX;
          this.literal = plan.literal;
          break;
        case 'contains':
          this.op = CONTAINS;
          this.literal = plan.literal;
          break;
        case 'segment':
          this.op = SEGMENT;
          this.literal = plan.literal;
          break;
        case 'regex':
          this.op = REGEX;
          this.literal = plan.required;
          this.tester = tester;
          break;
      }
    } else if (spec.present !== undefined) {
      this.op = PRESENT;
      this.literal = '';
      this.description = 'is present';
    } else {
      this.op = ABSENT;
      this.literal = '';
      this.description = 'is absent';
    }
    this.costly = this.op === REGEX || this.op === SEGMENT;
    const opName = spec.regex !== undefined ? 'regex' : OP_NAMES[this.op];
    this.key = spec.regex !== undefined ? `regex:${spec.regex}` : `${opName}:${this.literal}`;
  }

  /** Whether `value` (undefined: the attribute is absent) meets the condition. */
  test(value: string | undefined): boolean {
    switch (this.op) {
      case PRESENT:
        return value !== undefined;
      case ABSENT:
        return value === undefined;
    }
    if (value === undefined) return false;
    switch (this.op) {
      case EXACT:
        return value === this.literal;
      case PREFIX:
        return value.startsWith(this.literal);
      case SUFFIX:
        return value.endsWith(this.literal);
      case CONTAINS:
        return value.includes(this.literal);
      case SEGMENT:
        return matchesSegment(value, this.literal);
      default:
        // The required-literal check rejects most non-matching values without running the regex.
        return (this.literal === '' || value.includes(this.literal)) && (this.tester as PatternTester).test(value);
    }
  }
}
