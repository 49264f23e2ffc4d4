/** `weft completion bash|zsh|fish`, as a process; the bash script run through bash itself. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { weft } from './helpers.js';

let commands: string[];
let script: string;

/** The commands `weft --help` lists: the two-space indented first words of its groups. */
const listed = (help: string): string[] =>
  [...(help.split('Flags:')[0] ?? '').matchAll(/^ {2}([a-z][a-z0-9-]*) {2,}/gm)].map((m) => m[1] as string);

/** What bash completes for `words` (the last one being completed), with the script sourced. */
function complete(words: readonly string[]): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'weft-completion-')), 'weft.bash');
  writeFileSync(file, script);
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const run = spawnSync(
    'bash',
    [
      '-c',
      `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; COMP_LINE="${words.join(' ')}"; COMP_POINT=\${#COMP_LINE}; _weft; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash',
      file,
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((l) => l !== '');
}

beforeAll(async () => {
  commands = listed((await weft(['--help'])).stdout);
  expect(commands).toContain('traffic-step');
  const bash = await weft(['completion', 'bash']);
  expect(bash.code).toBe(0);
  script = bash.stdout;
});

describe('weft completion', () => {
  it('prints a bash script that bash -n accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-completion-'));
    writeFileSync(join(dir, 'weft.bash'), script);
    const check = spawnSync('bash', ['-n', join(dir, 'weft.bash')], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(script).toMatch(/complete -o default -F _weft weft/);
  });

  it('completes every command, a prefix, flags (also after leading flags) and fixed values in bash', () => {
    expect(complete(['weft', ''])).toEqual([...commands.filter((c) => c !== 'completion'), 'help', 'completion']);
    expect(complete(['weft', 'traffic-s'])).toEqual(['traffic-start', 'traffic-step']);
    expect(complete(['weft', 'traffic-step', 'reviews', '--max'])).toEqual(['--max-error-rate', '--max-p99']);
    expect(complete(['weft', '--controller-url', 'http://x:1', 'route-l'])).toEqual(['route-list']);
    expect(complete(['weft', '--controller-url', 'http://x:1', 'route-list', '--na'])).toEqual([
      '--namespace',
      '--namespace-header',
    ]);
    expect(complete(['weft', 'rule-get', '-o', 'y'])).toEqual(['yaml']);
    expect(complete(['weft', 'control-plane', '--auth-admin-'])).toEqual([
      '--auth-admin-token-file',
      '--auth-admin-header',
    ]);
    expect(complete(['weft', 'sidecar', '--print'])).toEqual(['--print-config']);
    expect(complete(['weft', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('gives every command its flags, as its --help lists them, in the zsh and fish scripts too', async () => {
    const zsh = await weft(['completion', 'zsh']);
    const fish = await weft(['completion', 'fish']);
    expect(zsh.code).toBe(0);
    expect(fish.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef weft\n/);
    for (const c of commands.filter((x) => x !== 'completion')) {
      expect(zsh.stdout).toContain(`    (${c})\n      flags=(`);
      expect(fish.stdout).toContain(`-a ${c} -d `);
    }
    expect(zsh.stdout).toMatch(/\(traffic-step\)\n {6}flags=\(--amount --watch --metrics-url --interval --steps/);
    expect(fish.stdout).toContain("complete -c weft -n '__fish_seen_subcommand_from traffic-step' -l metrics-url -r");
    expect(fish.stdout).toContain(
      "complete -c weft -n '__fish_seen_subcommand_from rule-get' -l output -s o -r -f -a 'json yaml table'",
    );
  });

  it('refuses another shell with a usage error (exit 2)', async () => {
    const run = await weft(['completion', 'tcsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no completion for 'tcsh': weft completion bash\|zsh\|fish/);
  });
});
