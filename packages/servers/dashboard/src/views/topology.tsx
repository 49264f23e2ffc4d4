import { useMemo, useState } from 'preact/hooks';
import type { TopologyAnswer } from '../api/types.js';
import { useWatch } from '../api/use-watch.js';
import { LiveStatus, Pending, Unavailable } from '../components/status.js';
import { formatMs, formatPercent, formatRate } from '../logic/format.js';
import { edgeTone, edgeWidth, GEOMETRY, layoutTopology } from '../logic/topology-layout.js';

const WINDOWS = [
  [60, '1 minute'],
  [300, '5 minutes'],
  [900, '15 minutes'],
] as const;

const endpointName = (e: { service: string; version?: string | undefined }): string =>
  e.version === undefined ? e.service : `${e.service} ${e.version}`;

/** Topology: the live call graph from the proxies' telemetry, drawn as SVG, with the same edges as a table. */
export function TopologyView() {
  const [window, setWindow] = useState<number>(60);
  const live = useWatch<TopologyAnswer>(`/v1/topology?window=${window}`);
  const layout = useMemo(() => (live.data === undefined ? undefined : layoutTopology(live.data)), [live.data]);
  return (
    <section aria-labelledby="topology-title">
      <div class="view-head">
        <h2 id="topology-title">Topology</h2>
        <LiveStatus status={live.status} revision={live.revision} />
      </div>
      {live.status.kind === 'unavailable' ? (
        <Unavailable what="Topology" endpoint="GET /v1/topology" />
      ) : (
        <>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Window
              <select value={String(window)} onChange={(e) => setWindow(Number(e.currentTarget.value))}>
                {WINDOWS.map(([seconds, label]) => (
                  <option key={seconds} value={String(seconds)}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
          </form>
          {live.data === undefined || layout === undefined ? (
            <Pending status={live.status} />
          ) : (
            <>
              <div class="graph-wrap">
                <svg
                  class="graph"
                  viewBox={`0 0 ${layout.width} ${layout.height}`}
                  width={layout.width}
                  height={layout.height}
                  role="img"
                  aria-labelledby="topology-graph-title"
                >
                  <title id="topology-graph-title">
                    Call graph: {layout.nodes.length} services, {layout.edges.length} edges (the table below lists them)
                  </title>
                  <defs>
                    {(['ok', 'warn', 'bad'] as const).map((tone) => (
                      <marker
                        key={tone}
                        id={`arrow-${tone}`}
                        viewBox="0 0 10 10"
                        refX="9"
                        refY="5"
                        markerWidth="7"
                        markerHeight="7"
                        orient="auto-start-reverse"
                      >
                        <path d="M0 0 L10 5 L0 10 z" class={`arrow arrow-${tone}`} />
                      </marker>
                    ))}
                  </defs>
                  {layout.edges.map((laid) => {
                    const tone = edgeTone(laid.edge.errorRate);
                    return (
                      <g key={laid.key} class={`edge edge-${tone}`} data-edge={laid.key}>
                        <title>
                          {endpointName(laid.edge.source)} → {endpointName(laid.edge.destination)}:{' '}
                          {formatRate(laid.edge.requestsPerSecond)}, {formatPercent(laid.edge.errorRate)} errors, p99{' '}
                          {formatMs(laid.edge.p99Ms)}, {formatPercent(laid.edge.share)} of the traffic
                        </title>
                        <path
                          d={laid.path}
                          fill="none"
                          stroke-width={edgeWidth(laid.edge.requestsPerSecond)}
                          marker-end={`url(#arrow-${tone})`}
                        />
                        <text x={laid.labelX} y={laid.labelY - 6} text-anchor="middle" class="edge-label">
                          {formatPercent(laid.edge.share)} · {formatRate(laid.edge.requestsPerSecond)}
                          {laid.edge.errorRate > 0 ? ` · ${formatPercent(laid.edge.errorRate)} err` : ''}
                        </text>
                      </g>
                    );
                  })}
                  {layout.nodes.map((node) => (
                    <g key={node.service} class="node" data-service={node.service}>
                      <rect x={node.x} y={node.y} width={node.width} height={node.height} rx="6" />
                      <text x={node.x + 10} y={node.y + GEOMETRY.headerHeight / 2 + 5} class="node-title">
                        {node.service}
                        <tspan class="node-count" dx="6">
                          {node.instances > 0 ? `${node.instances} inst.` : ''}
                        </tspan>
                      </text>
                      {node.versions.map((v) => (
                        <g key={v.version} class="version" data-version={v.version}>
                          <rect x={v.x} y={v.y} width={v.width} height={v.height} rx="4" />
                          <text x={v.x + 8} y={v.y + v.height / 2 + 4}>
                            {v.version}
                          </text>
                        </g>
                      ))}
                    </g>
                  ))}
                </svg>
              </div>
              <div class="table-wrap">
                <table>
                  <caption>Calls over the last {live.data.window} s</caption>
                  <thead>
                    <tr>
                      <th scope="col">Caller</th>
                      <th scope="col">Callee</th>
                      <th scope="col">Requests</th>
                      <th scope="col">Errors</th>
                      <th scope="col">p99</th>
                      <th scope="col">Share</th>
                    </tr>
                  </thead>
                  <tbody>
                    {layout.edges.map(({ key, edge }) => (
                      <tr key={key}>
                        <th scope="row">{endpointName(edge.source)}</th>
                        <td>{endpointName(edge.destination)}</td>
                        <td>{formatRate(edge.requestsPerSecond)}</td>
                        <td class={`tone-${edgeTone(edge.errorRate)}`}>{formatPercent(edge.errorRate)}</td>
                        <td>{formatMs(edge.p99Ms)}</td>
                        <td>{formatPercent(edge.share)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {layout.edges.length === 0 ? (
                <p class="note">No calls in this window: the proxies have reported no traffic yet.</p>
              ) : null}
            </>
          )}
        </>
      )}
    </section>
  );
}
