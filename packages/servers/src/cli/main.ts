/**
 * The `weft` command's process entry (bin/weft.mjs loads it): wires the real process — argv,
 * environment, standard streams, signals — to {@link runCli} and exits with its code.
 */
import { runCli } from './run.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

void runCli(process.argv.slice(2), {
  argv0: 'weft',
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  onSignal(handler) {
    for (const s of SIGNALS) process.on(s, handler);
    return () => {
      for (const s of SIGNALS) process.off(s, handler);
    };
  },
}).then((code) => {
  // A second signal: at once.
  if (code >= 128) process.exit(code);
  process.exitCode = code;
  // Otherwise let the streams drain (no lost logs on exit) and the loop end by itself; if a
  // handle still holds it (a client's socket, a library's timer), exit anyway instead of hanging.
  setTimeout(() => process.exit(code), 2000).unref();
});
