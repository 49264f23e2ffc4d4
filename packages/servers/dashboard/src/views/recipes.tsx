import type { RecipeRun, RecipeRunsAnswer } from '../api/types.js';
import { useWatch } from '../api/use-watch.js';
import { Badge, LiveStatus, Pending, Unavailable } from '../components/status.js';
import { useNow } from '../components/use-now.js';
import { formatAge, formatMs, parseTime } from '../logic/format.js';

function verdict(run: RecipeRun): { tone: 'ok' | 'bad' | 'neutral' | 'warn'; text: string } {
  const state = run.state ?? (run.passed === undefined ? 'running' : run.passed ? 'passed' : 'failed');
  if (state === 'passed') return { tone: 'ok', text: 'PASS' };
  if (state === 'failed') return { tone: 'bad', text: 'FAIL' };
  if (state === 'running') return { tone: 'neutral', text: 'running' };
  return { tone: 'warn', text: state };
}

/** The runs of the answer: `{runs}`, or a bare list. */
function runsOf(answer: RecipeRunsAnswer | readonly RecipeRun[]): readonly RecipeRun[] {
  return 'runs' in answer ? answer.runs : answer;
}

/** Recipes: the recipe runs the control plane knows of, newest first, each with its checks' verdicts. */
export function RecipesView() {
  const live = useWatch<RecipeRunsAnswer | readonly RecipeRun[]>('/v1/recipes/runs');
  const now = useNow(5000);
  const runs = live.data === undefined ? undefined : runsOf(live.data);
  return (
    <section aria-labelledby="recipes-title">
      <div class="view-head">
        <h2 id="recipes-title">Recipes</h2>
        <LiveStatus status={live.status} revision={live.revision} />
      </div>
      {live.status.kind === 'unavailable' ? (
        <Unavailable what="Recipe runs" endpoint="GET /v1/recipes/runs" />
      ) : runs === undefined ? (
        <Pending status={live.status} />
      ) : runs.length === 0 ? (
        <p class="note">
          No recipe has run yet. Run one with{' '}
          <code>weft recipe-run -t topology.json -s gremlins.json -c checks.json …</code>.
        </p>
      ) : (
        <ul class="runs">
          {runs.map((run) => {
            const v = verdict(run);
            const passed = run.checks.filter((c) => c.passed).length;
            return (
              <li key={run.runId} class="panel run" data-run={run.runId}>
                <details>
                  <summary>
                    <Badge tone={v.tone}>{v.text}</Badge> <code>{run.runId}</code> · {passed} of {run.checks.length}{' '}
                    checks passed · started {formatAge(parseTime(run.startedAt ?? run.receivedAt), now)}
                    {run.durationMs === undefined ? '' : ` · took ${formatMs(run.durationMs)}`}
                  </summary>
                  <table>
                    <caption class="visually-hidden">Checks of {run.runId}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Check</th>
                        <th scope="col">Calls</th>
                        <th scope="col">Result</th>
                        <th scope="col">Detail</th>
                      </tr>
                    </thead>
                    <tbody>
                      {run.checks.map((check, i) => (
                        <tr key={`${check.name}-${i}`}>
                          <th scope="row">{check.name}</th>
                          <td>{check.subject ?? ''}</td>
                          <td>
                            <Badge tone={check.passed ? 'ok' : 'bad'}>{check.passed ? 'PASS' : 'FAIL'}</Badge>
                          </td>
                          <td>{check.message ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {run.faults !== undefined && run.faults.length > 0 ? <p>Faults: {run.faults.join('; ')}</p> : null}
                  {run.missing !== undefined && run.missing.length > 0 ? (
                    <p>Missing: {run.missing.join('; ')}</p>
                  ) : null}
                  {run.error === undefined ? null : <p class="error-text">{run.error}</p>}
                </details>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
