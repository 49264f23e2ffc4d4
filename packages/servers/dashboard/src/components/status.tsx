import type { ComponentChildren } from 'preact';
import type { WatchStatus } from '../api/client.js';

/**
 * The live indicator of a view: whether its stream is up, announced to screen readers politely
 * when that changes (the revision beside it is not announced: it moves with every change).
 */
export function LiveStatus({ status, revision }: { status: WatchStatus; revision?: number | undefined }) {
  const text =
    status.kind === 'live'
      ? 'Live'
      : status.kind === 'connecting'
        ? 'Connecting…'
        : status.kind === 'unauthorized'
          ? 'Needs a token'
          : status.kind === 'unavailable'
            ? 'Not available'
            : `Reconnecting (${status.message})`;
  const shown = status.kind === 'live' && revision !== undefined && !Number.isNaN(revision);
  return (
    <span class={`live live-${status.kind}`}>
      <span role="status">{text}</span>
      {shown ? ` · revision ${revision}` : ''}
    </span>
  );
}

/** Said where the control plane does not serve an endpoint (404): an older server, or a feature not enabled. */
export function Unavailable({ what, endpoint }: { what: string; endpoint: string }) {
  return (
    <section class="panel unavailable" aria-label={`${what} not available`}>
      <h3>{what}: not available</h3>
      <p>
        This control plane does not serve <code>{endpoint}</code> (it answered 404). It comes with a newer
        <code> weft control-plane</code>; the other views work without it.
      </p>
    </section>
  );
}

/** What a view shows before its first state, or when its stream failed or needs credentials. */
export function Pending({ status, children }: { status: WatchStatus; children?: ComponentChildren }) {
  if (status.kind === 'unauthorized')
    return <p class="note">The control plane asks for a token: enter it with the “Token” button above.</p>;
  if (status.kind === 'error') return <p class="note error-text">Cannot read it yet: {status.message}. Retrying…</p>;
  return <p class="note">{children ?? 'Loading…'}</p>;
}

/** A coloured word for a verdict or health, never colour alone. */
export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'neutral'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}
