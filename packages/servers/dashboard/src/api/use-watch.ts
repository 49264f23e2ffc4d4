import { useEffect, useState } from 'preact/hooks';
import { type WatchStatus, watch } from './client.js';
import { session } from './session.js';

/** A live read: the latest state the control plane pushed, and how the stream stands. */
export interface Live<T> {
  readonly data: T | undefined;
  readonly revision: number | undefined;
  readonly status: WatchStatus;
}

/**
 * Follows `path` (a watchable GET) while the component is mounted; `null` follows nothing.
 * Restarts from scratch when the path or the credentials change (another namespace is another
 * history: its revisions mean nothing to the old stream).
 */
export function useWatch<T>(path: string | null): Live<T> {
  const [credentials, setCredentials] = useState(0);
  const [live, setLive] = useState<Live<T>>({ data: undefined, revision: undefined, status: { kind: 'connecting' } });
  useEffect(() => session.subscribe(() => setCredentials((n) => n + 1)), []);
  useEffect(() => {
    setLive({ data: undefined, revision: undefined, status: { kind: 'connecting' } });
    if (path === null) return undefined;
    const stop = new AbortController();
    void watch<T>(
      path,
      (data, revision) => setLive({ data, revision, status: { kind: 'live' } }),
      (status) => setLive((previous) => ({ ...previous, status })),
      stop.signal,
    );
    return () => stop.abort();
  }, [path, credentials]);
  return live;
}
