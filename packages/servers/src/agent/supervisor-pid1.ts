/**
 * What to tell the operator when the sidecar runs as PID 1. Node reaps only the children it
 * spawned; processes orphaned by the app are re-parented to PID 1 and, under Node, stay zombies
 * (each holds a pid until the container ends). A real init in front of the sidecar reaps them.
 * Building a reaper would need waitpid(-1) from native code, and would race libuv's own reaping
 * of the commands — an init is the cheaper, proven answer.
 *
 * @returns a warning to log, or undefined when the sidecar is not PID 1.
 */
export function pid1Advice(pid: number = process.pid): string | undefined {
  if (pid !== 1) return undefined;
  return (
    'running as PID 1: processes the app orphans will not be reaped and stay zombies; ' +
    'run the sidecar under an init (docker run --init, tini, or shareProcessNamespace in Kubernetes)'
  );
}
