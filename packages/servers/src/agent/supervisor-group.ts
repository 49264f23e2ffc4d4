import { readdirSync, readFileSync } from 'node:fs';

/**
 * Signals to a whole process group. Each supervised command is spawned detached, which makes it
 * the leader of a new session and process group whose id is its pid; signalling `-pgid` reaches
 * the command and everything it started (a shell's children, a worker pool) in one call, so
 * stopping the app leaves no orphans behind.
 */

/**
 * Sends `signal` to every process of the group `pgid`.
 * @returns false when the group has no process left (ESRCH); other errors (EPERM) are thrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Whether any process of the group is still running. kill(2) succeeds on a zombie, so a group
 * whose members are dead but not yet reaped — orphans wait for PID 1 to reap them, which a slow
 * init, or Node itself as PID 1, may never do — would look alive forever. Where /proc exists
 * (Linux) a group of zombies only counts as gone; elsewhere kill(2) has the last word.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const states = memberStates(pgid);
  return states === undefined || states.some((state) => state !== 'Z');
}

/**
 * The states (R, S, D, T, Z…) of the processes in group `pgid`, read from /proc; undefined
 * without /proc.
 */
export function memberStates(pgid: number): string[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const states: string[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid ('0'–'9' sort first)
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // not a process, or it went away while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so cut after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== undefined && Number(pgrp) === pgid) states.push(state);
  }
  return states;
}
