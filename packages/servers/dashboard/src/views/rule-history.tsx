import { useMemo } from 'preact/hooks';
import { useWatch } from '../api/use-watch.js';
import { LiveStatus, Pending, Unavailable } from '../components/status.js';
import { useNow } from '../components/use-now.js';
import { formatAge, parseTime } from '../logic/format.js';
import { historyEntries, revisionChanges } from '../logic/history.js';

const ids = (label: string, list: readonly string[]) =>
  list.length === 0 ? null : (
    <span class="change">
      {label}{' '}
      {list.map((id) => (
        <code key={id}>{id}</code>
      ))}
    </span>
  );

/** The namespace's last revisions of its rules, live, each with what it changed. */
export function RuleHistory() {
  const live = useWatch<unknown>('/v1/rules/history?limit=20');
  const now = useNow(5000);
  const changes = useMemo(() => revisionChanges(historyEntries(live.data)), [live.data]);
  return (
    <section class="panel history" aria-labelledby="history-title">
      <div class="view-head">
        <h3 id="history-title">Revision history</h3>
        <LiveStatus status={live.status} />
      </div>
      {live.status.kind === 'unavailable' ? (
        <Unavailable what="Revision history" endpoint="GET /v1/rules/history" />
      ) : live.data === undefined ? (
        <Pending status={live.status} />
      ) : changes.length === 0 ? (
        <p class="note">No revision yet.</p>
      ) : (
        <ol class="revisions" reversed>
          {changes.map((c) => (
            <li key={c.entry.revision} data-revision={c.entry.revision}>
              <details>
                <summary>
                  <strong>revision {c.entry.revision}</strong> · {formatAge(parseTime(c.entry.at), now)} ·{' '}
                  {c.entry.rules.length} rule{c.entry.rules.length === 1 ? '' : 's'} {ids('+', c.added)}
                  {ids('−', c.removed)}
                  {ids('~', c.changed)}
                </summary>
                <pre>{JSON.stringify(c.entry.rules, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
