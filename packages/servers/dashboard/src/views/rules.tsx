import { useMemo, useState } from 'preact/hooks';
import type { InstancesAnswer, RulesAnswer, RuleWarning, StoredRule } from '../api/types.js';
import { useWatch } from '../api/use-watch.js';
import { LiveStatus, Pending } from '../components/status.js';
import { ExplainPanel } from './explain.js';
import { type EditTarget, RuleEditor, WriteWarnings } from './rule-editor.js';
import { RuleHistory } from './rule-history.js';

const kindOf = (rule: StoredRule): string =>
  rule.route !== undefined ? 'route' : rule.actions !== undefined ? 'actions' : '–';

/** Rules: the namespace's rules (live), an editor checked as you type, the revision history and explain. */
export function RulesView() {
  const live = useWatch<RulesAnswer>('/v1/rules');
  // The registry's instances feed lint's "no instance carries these tags" in the editor.
  const registry = useWatch<InstancesAnswer>('/api/v1/instances?status=ALL');
  const [target, setTarget] = useState<EditTarget | undefined>(undefined);
  const [openedAt, setOpenedAt] = useState<number | undefined>(undefined);
  const [saved, setSaved] = useState<{ message: string; warnings: readonly RuleWarning[] } | undefined>(undefined);
  const instances = useMemo(
    () => registry.data?.instances.map((i) => ({ service: i.service_name ?? '', tags: i.tags ?? [] })) ?? undefined,
    [registry.data],
  );
  const services = useMemo(() => [...new Set((instances ?? []).map((i) => i.service))].sort(), [instances]);
  const open = (next: EditTarget): void => {
    setTarget(next);
    setOpenedAt(live.data?.revision);
    setSaved(undefined);
  };

  return (
    <section aria-labelledby="rules-title">
      <div class="view-head">
        <h2 id="rules-title">Rules</h2>
        <LiveStatus status={live.status} revision={live.data?.revision} />
      </div>
      <div class="rules-layout">
        <div class="rules-main">
          <div class="actions">
            <button type="button" class="primary" onClick={() => open({ kind: 'new' })}>
              New rule
            </button>
          </div>
          {saved === undefined ? null : (
            <div class="panel saved" role="status">
              <p>{saved.message}</p>
              <WriteWarnings warnings={saved.warnings} />
            </div>
          )}
          {target === undefined ? null : (
            <RuleEditor
              key={target.kind === 'new' ? 'new' : target.rule.id}
              target={target}
              revision={openedAt}
              instances={instances}
              onCancel={() => setTarget(undefined)}
              onSaved={(answer) => {
                setTarget(undefined);
                setSaved({
                  message: `Saved ${answer.ids.join(', ')} at revision ${answer.revision}.`,
                  warnings: answer.warnings,
                });
              }}
            />
          )}
          {live.data === undefined ? (
            <Pending status={live.status} />
          ) : live.data.rules.length === 0 ? (
            <p class="note">No rules: every request goes to any instance of its destination.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Rules in the order they are stored</caption>
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">Destination</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Tags</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {live.data.rules.map((rule) => (
                    <tr key={rule.id} data-rule={rule.id}>
                      <th scope="row">
                        <code>{rule.id}</code>
                      </th>
                      <td>{rule.destination}</td>
                      <td>{kindOf(rule)}</td>
                      <td>{rule.priority ?? 0}</td>
                      <td>{(rule.tags ?? []).join(', ') || '–'}</td>
                      <td>
                        <button
                          type="button"
                          onClick={() => open({ kind: 'edit', rule })}
                          aria-label={`Edit rule ${rule.id}`}
                        >
                          Edit
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <ExplainPanel services={services} />
        </div>
        <RuleHistory />
      </div>
    </section>
  );
}
