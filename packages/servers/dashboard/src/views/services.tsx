import { useMemo, useState } from 'preact/hooks';
import { session } from '../api/session.js';
import type { InstancesAnswer } from '../api/types.js';
import { useWatch } from '../api/use-watch.js';
import { Badge, LiveStatus, Pending } from '../components/status.js';
import { useNow } from '../components/use-now.js';
import { formatAge } from '../logic/format.js';
import { facets, filterRows, type Health, instanceRows } from '../logic/services.js';

const HEALTH_TONE: Record<Health, 'ok' | 'warn' | 'bad' | 'neutral'> = {
  healthy: 'ok',
  starting: 'neutral',
  late: 'warn',
  'out of service': 'bad',
};

/** Services: every instance of the namespace (all statuses), live, filtered by tag, source and text. */
export function ServicesView() {
  const live = useWatch<InstancesAnswer>('/api/v1/instances?status=ALL');
  const now = useNow();
  const [tag, setTag] = useState('');
  const [source, setSource] = useState('');
  const [text, setText] = useState('');
  const rows = useMemo(() => instanceRows(live.data?.instances ?? [], now), [live.data, now]);
  const choices = useMemo(() => facets(rows), [rows]);
  const shown = filterRows(rows, { tags: tag === '' ? [] : [tag], source, text });
  const services = new Set(shown.map((r) => r.service)).size;
  return (
    <section aria-labelledby="services-title">
      <div class="view-head">
        <h2 id="services-title">Services</h2>
        <LiveStatus status={live.status} revision={live.revision} />
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Namespace
          <input
            value={session.namespace()}
            placeholder="the token's"
            aria-describedby="namespace-hint"
            // On change (Enter or leaving the field), not per keystroke: each switch restarts every stream.
            onChange={(e) => session.setNamespace(e.currentTarget.value)}
          />
          <small id="namespace-hint" class="hint">
            sent as A8-Namespace (admin tokens)
          </small>
        </label>
        <label>
          Tag
          <select value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
            <option value="">any tag</option>
            {choices.tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            <option value="">any source</option>
            {choices.sources.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input
            type="search"
            value={text}
            placeholder="service, endpoint or id"
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
      </form>
      {live.data === undefined ? (
        <Pending status={live.status} />
      ) : (
        <>
          <p class="summary">
            {shown.length} instance{shown.length === 1 ? '' : 's'} of {services} service{services === 1 ? '' : 's'}
            {shown.length === rows.length ? '' : ` (of ${rows.length})`}
          </p>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Instances, by service and version</caption>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Status</th>
                  <th scope="col">Health</th>
                  <th scope="col">Source</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((row) => (
                  <tr key={row.id} data-instance={row.id}>
                    <th scope="row">{row.service}</th>
                    <td>{row.tags.length === 0 ? '–' : row.tags.map((t) => <code key={t}>{t}</code>)}</td>
                    <td>{row.status}</td>
                    <td>
                      <Badge tone={HEALTH_TONE[row.health]}>{row.health}</Badge>
                    </td>
                    <td>{row.mirror === undefined ? row.source : `${row.source} (${row.mirror})`}</td>
                    <td>
                      <code>{row.endpoint}</code>
                    </td>
                    <td>
                      <time
                        dateTime={
                          Number.isNaN(row.lastHeartbeat) ? undefined : new Date(row.lastHeartbeat).toISOString()
                        }
                      >
                        {formatAge(row.lastHeartbeat, now)}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length === 0 ? <p class="note">No instance is registered in this namespace.</p> : null}
        </>
      )}
    </section>
  );
}
