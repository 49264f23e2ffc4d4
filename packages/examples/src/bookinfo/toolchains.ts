/**
 * The polyglot bookinfo needs three toolchains from the machine: python3 (productpage), go
 * (details) and java 11 or later (reviews, run from source). This checks for them up front and
 * says exactly which are missing, instead of failing half-way through the start.
 */
import { spawnSync } from 'node:child_process';
import { WeftError } from '@weft/core';

/** One toolchain an example needs. */
export interface Toolchain {
  readonly command: string;
  readonly args: readonly string[];
  readonly forWhat: string;
  /** Debian's package for it. */
  readonly install: string;
  /** A problem with the version it printed, or undefined when it will do. */
  readonly check?: (output: string) => string | undefined;
}

/** java 11 or later, which runs `source` (a single-file program) without a separate javac step. */
export const javaToolchain = (forWhat: string, source: string): Toolchain => ({
  command: 'java',
  args: ['-version'],
  forWhat,
  install: 'default-jdk-headless',
  check: (output) => {
    // "openjdk version "17.0.15"" or "java version "1.8.0_…"": source launch needs 11.
    const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
    const major = m === null ? Number.NaN : Number(m[1]) === 1 ? Number(m[2]) : Number(m[1]);
    return Number.isNaN(major) || major >= 11
      ? undefined
      : `java ${major} is too old: java ${source} needs 11 or later`;
  },
});

const TOOLCHAINS: readonly Toolchain[] = [
  { command: 'python3', args: ['--version'], forWhat: 'productpage', install: 'python3' },
  { command: 'go', args: ['version'], forWhat: 'details', install: 'golang-go' },
  javaToolchain('reviews v1, v2 and v3', 'Reviews.java'),
];

/** Thrown by {@link checkToolchains} (`WEFT_ERR_MISSING_TOOLCHAIN`): what is missing, and what for. */
export class MissingToolchainError extends WeftError {
  constructor(
    readonly problems: readonly string[],
    example = 'the polyglot bookinfo',
  ) {
    super('WEFT_ERR_MISSING_TOOLCHAIN', `${example} cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'MissingToolchainError';
  }
}

/** What is wrong with each of `toolchains` that is missing or too old (empty when all will do). */
export function toolchainProblems(toolchains: readonly Toolchain[]): string[] {
  const problems: string[] = [];
  for (const tool of toolchains) {
    const result = spawnSync(tool.command, tool.args, { encoding: 'utf8', timeout: 10_000 });
    if (result.error !== undefined || result.status !== 0) {
      problems.push(
        `${tool.command} (for ${tool.forWhat}) is not on PATH: install it (Debian: apt-get install ${tool.install})`,
      );
      continue;
    }
    const problem = tool.check?.(`${result.stdout}${result.stderr}`);
    if (problem !== undefined) problems.push(`${problem} (for ${tool.forWhat}; Debian: ${tool.install})`);
  }
  return problems;
}

/** Throws a {@link MissingToolchainError} naming every toolchain bookinfo needs that is missing or too old. */
export function checkToolchains(): void {
  const problems = toolchainProblems(TOOLCHAINS);
  if (problems.length > 0) throw new MissingToolchainError(problems);
}
