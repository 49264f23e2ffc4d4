import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isWeftError } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AppCommand, Supervisor, type SupervisorOptions } from './supervisor.js';
import { pid1Advice } from './supervisor-pid1.js';

const node = process.execPath;
let dir: string;
const supervisors: Supervisor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-supervisor-'));
});
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** A started supervisor that records its events; stopped after the test. */
function supervise(commands: AppCommand[], options?: SupervisorOptions) {
  const s = new Supervisor(commands, options);
  supervisors.push(s);
  const exits: Array<[string, number | null, NodeJS.Signals | null]> = [];
  const terminates: number[] = [];
  const errors: Error[] = [];
  s.on('exit', (c, code, signal) => exits.push([c.cmd.join(' '), code, signal]));
  s.on('terminate', (code) => terminates.push(code));
  s.on('error', (e) => errors.push(e));
  s.start();
  return { s, exits, terminates, errors };
}

/** Every process (zombies included) whose process group is `pgid`, read from /proc. */
function groupMembers(pgid: number): Array<{ pid: number; state: string }> {
  const members: Array<{ pid: number; state: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so cut after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== undefined) members.push({ pid: Number(name), state });
  }
  return members;
}

/**
 * The group's processes that still run. A zombie is dead — it only waits for its parent (here
 * the machine's PID 1, for orphans) to collect its status — so it does not count.
 */
function survivors(pgid: number): Array<{ pid: number; state: string }> {
  return groupMembers(pgid).filter((m) => m.state !== 'Z');
}

async function until(what: string, predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A node one-liner that touches `ready` once its signal handlers are installed. */
function nodeScript(body: string, ready: string): string[] {
  return [
    node,
    '-e',
    `${body}; require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`,
  ];
}

describe('Supervisor', () => {
  it('propagates a command’s exit code as the terminate code', async () => {
    const { s, exits, terminates } = supervise([{ cmd: [node, '-e', 'process.exit(3)'] }]);
    expect(s.running).toBe(1);
    expect(await once(s, 'terminate')).toEqual([3]);
    expect(exits).toEqual([[`${node} -e process.exit(3)`, 3, null]]);
    expect(terminates).toEqual([3]);
    expect(s.running).toBe(0);
  });

  it('merges env over its own and passes argv without a shell', async () => {
    const check =
      "process.exit(process.env.WEFT_X === 'a b' && process.env.PATH && process.argv[1] === '$HOME *' ? 0 : 1)";
    const { s } = supervise([{ cmd: [node, '-e', check, '$HOME *'], env: { WEFT_X: 'a b' } }]);
    expect(await once(s, 'terminate')).toEqual([0]);
  });

  it("onExit 'ignore' reports the exit but does not terminate; 'terminate' does", async () => {
    const ready = join(dir, 'ready');
    const { s, exits, terminates } = supervise([
      { cmd: [node, '-e', 'process.exit(5)'], onExit: 'ignore' },
      { cmd: nodeScript("process.on('SIGUSR2', () => process.exit(9))", ready), onExit: 'terminate' },
    ]);
    await until('the ignored command to exit', () => exits.length === 1);
    expect(exits[0]?.[1]).toBe(5);
    expect(s.running).toBe(1);
    await until('the second command to be ready', () => existsSync(ready));
    await sleep(50);
    expect(terminates).toEqual([]);
    s.signal('SIGUSR2');
    expect(await once(s, 'terminate')).toEqual([9]);
    expect(terminates).toEqual([9]);
  });

  it('forwards SIGTERM and SIGINT; a command killed by a signal terminates with 128 + its number', async () => {
    const ready = join(dir, 'ready');
    const { s: s1 } = supervise([{ cmd: nodeScript("process.on('SIGINT', () => process.exit(42))", ready) }]);
    await until('ready', () => existsSync(ready));
    s1.signal('SIGINT');
    expect(await once(s1, 'terminate')).toEqual([42]);

    const { s: s2, exits } = supervise([{ cmd: ['sleep', '100'] }]);
    s2.signal('SIGTERM');
    expect(await once(s2, 'terminate')).toEqual([143]);
    expect(exits).toEqual([['sleep 100', null, 'SIGTERM']]);
  });

  it('emits error and terminates with 127 when a command cannot be found; ignore → error only', async () => {
    const { s, errors, terminates } = supervise([{ cmd: ['/nonexistent/weft-app'] }]);
    await until('terminate', () => terminates.length > 0);
    expect(terminates).toEqual([127]);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('cannot start "/nonexistent/weft-app"')]);
    expect(s.running).toBe(0);

    const ignored = supervise([{ cmd: ['/nonexistent/weft-app'], onExit: 'ignore' }]);
    await until('the error', () => ignored.errors.length === 1);
    await sleep(50);
    expect(ignored.terminates).toEqual([]);
  });

  it('terminates with 126 when a command is not executable', async () => {
    const file = join(dir, 'not-executable');
    writeFileSync(file, 'echo hi\n', { mode: 0o644 });
    const { terminates, errors } = supervise([{ cmd: [file] }]);
    await until('terminate', () => terminates.length > 0);
    expect(terminates).toEqual([126]);
    expect(errors[0]?.message).toMatch(/EACCES/);
  });

  it('stop() kills the whole process group: no grandchild survives', async () => {
    const { s } = supervise([{ cmd: ['sh', '-c', 'sleep 100 & sleep 100'] }]);
    const [pgid] = s.pids;
    if (pgid === undefined) throw new Error('no pid');
    await until('sh and both sleeps', () => groupMembers(pgid).length === 3);
    const started = Date.now();
    await s.stop();
    expect(Date.now() - started).toBeLessThan(1_000); // SIGTERM was enough, no kill timeout
    expect(survivors(pgid)).toEqual([]);
    expect(s.running).toBe(0);
  });

  it('(control) killing only the leader would leave the background sleep behind', async () => {
    // Proves groupMembers() sees orphans, so the test above can fail.
    const sh = spawn('sh', ['-c', 'sleep 100 & sleep 100'], { detached: true, stdio: 'ignore' });
    const pgid = sh.pid;
    if (pgid === undefined) throw new Error('no pid');
    try {
      await until('sh and both sleeps', () => groupMembers(pgid).length === 3);
      sh.kill('SIGTERM');
      await once(sh, 'exit');
      await sleep(50);
      expect(survivors(pgid).length).toBe(2);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });

  it('stop() sends SIGKILL after killTimeoutMs to a group that ignores SIGTERM', async () => {
    const ready = join(dir, 'ready');
    const { s, exits, terminates } = supervise(
      [
        { cmd: nodeScript("process.on('SIGTERM', () => {})", ready) },
        // sh and its sleep inherit the ignored SIGTERM: only SIGKILL ends them.
        { cmd: ['sh', '-c', `trap '' TERM; sleep 100 & sleep 100`], onExit: 'ignore' },
      ],
      { killTimeoutMs: 400 },
    );
    const pgids = s.pids;
    await until('ready', () => existsSync(ready) && groupMembers(pgids[1] ?? 0).length === 3);
    const started = Date.now();
    await s.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3_000);
    expect(exits.map(([, code, signal]) => [code, signal])).toEqual([
      [null, 'SIGKILL'],
      [null, 'SIGKILL'],
    ]);
    expect(terminates).toEqual([137]);
    for (const pgid of pgids) expect(survivors(pgid)).toEqual([]);
  });

  it('stop() also kills what an exited command left running in its group', async () => {
    const { s, exits } = supervise([{ cmd: ['sh', '-c', 'sleep 100 & exit 0'], onExit: 'ignore' }]);
    const [pgid] = s.pids;
    if (pgid === undefined) throw new Error('no pid');
    await until('sh to exit', () => exits.length === 1);
    expect(survivors(pgid).length).toBe(1); // the orphaned sleep
    await s.stop();
    expect(survivors(pgid)).toEqual([]);
  });

  it('kills every group when the sidecar process exits without stop()', async () => {
    const tsx = join(import.meta.dirname, '..', '..', '..', '..', 'node_modules', '.bin', 'tsx');
    const script = `import { Supervisor } from ${JSON.stringify(join(import.meta.dirname, 'supervisor.ts'))};
      const s = new Supervisor([{ cmd: ['sh', '-c', 'sleep 100 & sleep 100'] }]);
      s.start();
      process.stdout.write(String(s.pids[0]));
      setTimeout(() => process.exit(0), 200);`;
    const sidecar = spawn(tsx, ['--conditions=@weft/source', '--eval', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    sidecar.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const [code] = await once(sidecar, 'exit');
    expect(code).toBe(0);
    const pgid = Number(out);
    expect(pgid).toBeGreaterThan(1);
    try {
      await until('the group to die', () => survivors(pgid).length === 0, 1_000);
    } finally {
      if (survivors(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
    }
  });

  it('stop() is idempotent, and a no-op before start', async () => {
    const idle = new Supervisor([{ cmd: ['sleep', '100'] }]);
    await idle.stop();
    const { s } = supervise([{ cmd: ['sleep', '100'] }]);
    const a = s.stop();
    expect(s.stop()).toBe(a);
    await a;
    expect(s.running).toBe(0);
  });

  /** A command that counts its runs in `file` and exits 1 until its `okOn`th run, then 0. */
  function flaky(file: string, okOn: number): string[] {
    const body = `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(file)}, 'x');
      process.exit(fs.readFileSync(${JSON.stringify(file)}, 'utf8').length >= ${okOn} ? 0 : 1)`;
    return [node, '-e', body];
  }
  const runs = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').length : 0);

  it("restart 'on-failure': starts a failing command again with doubling delays; exit 0 ends it", async () => {
    const file = join(dir, 'runs');
    const s = new Supervisor([{ cmd: flaky(file, 3), restart: 'on-failure' }], {
      restartDelayMs: 100,
      restartMaxDelayMs: 5_000,
    });
    supervisors.push(s);
    const events: unknown[][] = [];
    let firstRestartAt = 0;
    let terminatedAt = 0;
    s.on('exit', (_c, code) => events.push(['exit', code]));
    s.on('restart', (_c, attempt, delayMs) => {
      firstRestartAt ||= Date.now();
      events.push(['restart', attempt, delayMs]);
    });
    s.on('terminate', (code) => {
      terminatedAt = Date.now();
      events.push(['terminate', code]);
    });
    s.start();
    await until('terminate', () => terminatedAt > 0);
    expect(runs(file)).toBe(3);
    expect(events).toEqual([
      ['exit', 1],
      ['restart', 1, 100],
      ['exit', 1],
      ['restart', 2, 200],
      ['exit', 0],
      ['terminate', 0],
    ]);
    expect(terminatedAt - firstRestartAt).toBeGreaterThanOrEqual(300); // both delays were waited
  });

  it('restarts nothing by default', async () => {
    const file = join(dir, 'runs');
    const { s, exits } = supervise([{ cmd: flaky(file, 99), onExit: 'ignore' }], { restartDelayMs: 10 });
    await until('the exit', () => exits.length === 1);
    await sleep(150);
    expect(runs(file)).toBe(1);
    expect(s.running).toBe(0);
  });

  it('stop() cancels a pending restart', async () => {
    const file = join(dir, 'runs');
    const s = new Supervisor([{ cmd: flaky(file, 99), restart: 'on-failure' }], { restartDelayMs: 300 });
    supervisors.push(s);
    const restarts: number[] = [];
    s.on('restart', (_c, attempt) => restarts.push(attempt));
    s.start();
    await until('the restart to be scheduled', () => restarts.length === 1);
    const started = Date.now();
    await s.stop();
    expect(Date.now() - started).toBeLessThan(200);
    await sleep(450);
    expect(runs(file)).toBe(1);
  });

  it('refuses an empty command and a negative kill timeout, naming both', () => {
    let error: unknown;
    try {
      new Supervisor([{ cmd: [] }], { killTimeoutMs: -1 });
    } catch (e) {
      error = e;
    }
    expect(isWeftError(error, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/\[0\]\.cmd: must name a program; killTimeoutMs/);
  });

  it('pid1Advice warns only as PID 1', () => {
    expect(pid1Advice(1)).toMatch(/--init/);
    expect(pid1Advice(1234)).toBeUndefined();
  });
});
