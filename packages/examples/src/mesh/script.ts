/** What the example scripts share: readable steps, the commands they run, and a clean exit. */
import { commandLine, type OperatorResult, weft } from './weft.js';

export const say = (text: string): void => {
  console.log(text);
};

export const step = (title: string): void => {
  const rule = '─'.repeat(Math.max(0, 76 - title.length));
  console.log(`\n── ${title}${rule === '' ? '' : ` ${rule}`}`);
};

/** Runs `weft <args>` and prints `$ weft <args>` with its output indented. */
export async function run(controlPlane: string, args: readonly string[]): Promise<string> {
  const result = await weft(controlPlane, args);
  print(args, result);
  return result.stdout;
}

/** Runs operator commands one after the other, printing each as {@link run} does. */
export async function runEach(controlPlane: string, ...list: readonly (readonly string[])[]): Promise<void> {
  for (const args of list) await run(controlPlane, args);
}

/** Runs independent operator commands at once (each is a process), printing them in order. */
export async function runTogether(controlPlane: string, ...list: readonly (readonly string[])[]): Promise<void> {
  const results = await Promise.all(list.map((args) => weft(controlPlane, args)));
  for (const [i, args] of list.entries()) print(args, results[i] as OperatorResult);
}

function print(args: readonly string[], { stdout, stderr }: OperatorResult): void {
  say(`   $ ${commandLine(args)}`);
  for (const line of `${stdout}${stderr}`.split('\n')) if (line.trim() !== '') say(`     ${line}`);
}

/** What an example runs: its processes, stopped together (a {@link ProcessSet}, a running bookinfo). */
export interface Stoppable {
  /** Where the processes' logs are. */
  readonly logDir: string;
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

/**
 * Runs an example to its end and always stops what `running()` returns: on success, on an error
 * (keeping the logs, whose directory it names) and on Ctrl-C / SIGTERM (exit code 130). Sets the
 * exit code.
 */
export async function runExample(running: () => Stoppable | undefined, body: () => Promise<void>): Promise<void> {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping every process the example started…`);
    void (running()?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await body();
    await running()?.stop();
    say('\nAll processes stopped.');
  } catch (err) {
    if (interrupted) return;
    const logs = running()?.logDir;
    console.error(`\nThe example failed: ${err instanceof Error ? err.message : String(err)}`);
    if (logs !== undefined) console.error(`The processes' logs are kept in ${logs}`);
    await running()?.stop({ keepLogs: true });
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
