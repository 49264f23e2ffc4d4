import { useMemo, useState } from 'preact/hooks';
import type { AuthorizationAnswer, InstancesAnswer } from '../api/types.js';
import { useWatch } from '../api/use-watch.js';
import { Badge, LiveStatus, Pending, Unavailable } from '../components/status.js';
import { policyRows, policySummary } from '../logic/authorization.js';
import { AuthzEditor } from './authz-editor.js';
import { AuthzExplainPanel } from './authz-explain.js';

/** A list of alternatives in a cell: one line each, "or" between them for a reader who skims. */
function Alternatives({ items }: { items: readonly string[] }) {
  return (
    <>
      {items.map((item, i) => (
        <div key={`${i}:${item}`}>
          {i > 0 ? <span class="or">or </span> : null}
          {item}
        </div>
      ))}
    </>
  );
}

/**
 * Authorization: who may call which service in the namespace (live), in the order the proxies
 * judge the policies, what a call no policy mentions gets, and an explain form for one call.
 */
export function AuthorizationView() {
  const live = useWatch<AuthorizationAnswer>('/v1/authorization');
  const registry = useWatch<InstancesAnswer>('/api/v1/instances?status=ALL');
  const services = useMemo(
    () => [...new Set((registry.data?.instances ?? []).map((i) => i.service_name ?? ''))].filter(Boolean).sort(),
    [registry.data],
  );
  const rows = useMemo(() => policyRows(live.data?.policies ?? []), [live.data]);
  // The policies as they were when the editor opened: its text starts from them, its write is conditional on them.
  const [editing, setEditing] = useState<AuthorizationAnswer | undefined>(undefined);
  const [saved, setSaved] = useState<string | undefined>(undefined);

  return (
    <section aria-labelledby="authz-title">
      <div class="view-head">
        <h2 id="authz-title">Authorization</h2>
        <LiveStatus status={live.status} revision={live.data?.revision} />
      </div>
      {live.status.kind === 'unavailable' ? (
        <Unavailable what="Authorization" endpoint="GET /v1/authorization" />
      ) : live.data === undefined ? (
        <Pending status={live.status} />
      ) : (
        <>
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={editing !== undefined}
              onClick={() => {
                setEditing(live.data);
                setSaved(undefined);
              }}
            >
              Edit policies
            </button>
          </div>
          {saved === undefined ? null : (
            <div class="panel saved" role="status">
              <p>{saved}</p>
            </div>
          )}
          {editing === undefined ? null : (
            <AuthzEditor
              opened={editing}
              onCancel={() => setEditing(undefined)}
              onSaved={(revision) => {
                setEditing(undefined);
                setSaved(`Saved the policies at revision ${revision}.`);
              }}
            />
          )}
          <p class="note authz-summary">
            <Badge tone={live.data.defaultAction === 'allow' ? 'neutral' : 'warn'}>
              default {live.data.defaultAction}
            </Badge>{' '}
            {policySummary(live.data)}
          </p>
          {rows.length === 0 ? null : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Authorization policies, deny policies first</caption>
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">Action</th>
                    <th scope="col">Destination</th>
                    <th scope="col">From (any of)</th>
                    <th scope="col">To (any of)</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={row.id} data-policy={row.id}>
                      <th scope="row">
                        <code>{row.id}</code>
                      </th>
                      <td>
                        <Badge tone={row.action === 'allow' ? 'ok' : 'bad'}>{row.action}</Badge>
                      </td>
                      <td>{row.destination}</td>
                      <td>
                        <Alternatives items={row.from} />
                      </td>
                      <td>
                        <Alternatives items={row.to} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <AuthzExplainPanel services={services} />
    </section>
  );
}
