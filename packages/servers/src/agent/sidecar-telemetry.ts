import { AccessLogStream } from '@weft/adapters/weft';
import { type SidecarConfig, urlList } from '../config/sidecar-settings.js';

/**
 * Whether the agent streams its access-log records to the control plane: `telemetry.stream` when
 * set, else on whenever the proxy follows a Weft controller — the control plane is then there
 * anyway, it is where `weft recipe-run` and the dashboard look, and streaming costs the proxy one
 * queue push per call and one POST a second (a control plane without the route answers 404 and
 * the stream pauses itself).
 */
export function streamsAccessLog(config: SidecarConfig): boolean {
  if (!config.proxy) return false;
  return config.telemetry.stream ?? (config.controller.url !== undefined || config.registry.type === 'weft');
}

/** Where the records go: `telemetry.url`, else the controller's URL, else Weft's registry's (the control plane's). */
export function telemetryUrls(config: SidecarConfig): string[] {
  const url =
    config.telemetry.url ??
    config.controller.url ??
    (config.registry.type === 'weft' ? config.registry.url : undefined) ??
    [];
  return urlList(url);
}

/** The agent's access-log stream, or undefined when it does not stream (see {@link streamsAccessLog}). */
export function openAccessLogStream(
  config: SidecarConfig,
  log: (message: string) => void,
): AccessLogStream | undefined {
  const urls = telemetryUrls(config);
  if (!streamsAccessLog(config) || urls.length === 0) return undefined;
  const token = config.controller.token ?? config.registry.token;
  return new AccessLogStream({
    url: urls,
    ...(token === undefined ? {} : { token }),
    intervalMs: config.telemetry.interval,
    maxQueue: config.telemetry.queue,
    onWarning: (m) => log(`access-log stream: ${m}`),
  });
}
