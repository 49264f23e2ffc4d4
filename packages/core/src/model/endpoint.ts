import * as z from 'zod/mini';
import { withMeta } from '../zod-setup.js';
import { Limits, utf8Length } from './limits.js';

/** How an endpoint is reached. `user` endpoints carry an opaque value Weft does not interpret. */
export const EndpointTypeSchema = withMeta(z.enum(['http', 'https', 'tcp', 'udp', 'user']), {
  id: 'EndpointType',
  description: 'Protocol of the endpoint; `user` values are opaque.',
});
/** How an endpoint is reached: `http`, `https`, `tcp`, `udp`, or `user` (an opaque value). */
export type EndpointType = z.infer<typeof EndpointTypeSchema>;

/** Splits `host:port` (IPv6 as `[::1]:80`). Returns undefined when the value is not of that form. */
export function splitHostPort(value: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return undefined;
    host = value.slice(1, close);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon <= 0 || value.indexOf(':') !== colon) return undefined;
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
  }
  if (host === '' || !/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port > 65535 ? undefined : { host, port };
}

/** Joins host and port into an endpoint value, bracketing IPv6 literals. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const PortSchema = z.int().check(z.minimum(0)).check(z.maximum(65535));

/**
 * An endpoint as accepted on input: Amalgam8's `{type, value: "host:port"}` or `{type, host, port}`.
 * It is normalised to an {@link Endpoint} that has both forms.
 */
export const EndpointInputSchema = withMeta(
  z.pipe(
    z
      .strictObject({
        type: z._default(EndpointTypeSchema, 'http'),
        value: z.optional(z.string()),
        host: z.optional(z.string().check(z.minLength(1))),
        port: z.optional(PortSchema),
      })
      .check(
        z.superRefine((e, ctx) => {
          if (e.value !== undefined && (e.host !== undefined || e.port !== undefined)) {
            ctx.addIssue({ code: 'custom', message: 'give either value or host and port, not both', path: [] });
            return;
          }
          if (e.value === undefined) {
            if (e.host === undefined || e.port === undefined) {
              ctx.addIssue({ code: 'custom', message: 'is required (or give host and port)', path: ['value'] });
              return;
            }
          }
          const value = e.value ?? joinHostPort(e.host ?? '', e.port ?? 0);
          const bytes = utf8Length(value);
          if (value === '') ctx.addIssue({ code: 'custom', message: 'must not be empty', path: ['value'] });
          if (bytes > Limits.endpointValueBytes)
            ctx.addIssue({
              code: 'custom',
              message: `must be at most ${Limits.endpointValueBytes} bytes (got ${bytes})`,
              path: ['value'],
            });
          if (e.type !== 'user' && e.value !== undefined && e.value !== '' && splitHostPort(e.value) === undefined)
            ctx.addIssue({
              code: 'custom',
              message: `must be "host:port" for a ${e.type} endpoint (got ${JSON.stringify(e.value)})`,
              path: ['value'],
            });
        }),
      ),
    z.transform((e): Endpoint => {
      if (e.value === undefined) {
        const host = e.host as string;
        const port = e.port as number;
        return { type: e.type, value: joinHostPort(host, port), host, port };
      }
      const hp = e.type === 'user' ? undefined : splitHostPort(e.value);
      return hp === undefined ? { type: e.type, value: e.value } : { type: e.type, value: e.value, ...hp };
    }),
  ),
  { id: 'EndpointInput', description: 'An endpoint: `{type, value: "host:port"}` or `{type, host, port}`.' },
);
/**
 * An endpoint as given on input: `{ type, value: 'host:port' }` or `{ type, host, port }`
 * (IPv6 hosts as `[::1]:80` in `value`). Normalised into an {@link Endpoint}.
 */
export type EndpointInput = z.input<typeof EndpointInputSchema>;

/** A normalised endpoint. `host` and `port` are present for every type but `user`. */
export const EndpointSchema = withMeta(
  z.object({
    type: EndpointTypeSchema,
    value: z.string(),
    host: z.optional(z.string()),
    port: z.optional(PortSchema),
  }),
  { id: 'Endpoint', description: 'A normalised endpoint.' },
);
/**
 * A normalised endpoint, as instances carry it: `value` is always set; `host` and `port` are
 * present for every type but `user`.
 */
export interface Endpoint {
  readonly type: EndpointType;
  /** `host:port`, or the opaque value of a `user` endpoint. */
  readonly value: string;
  readonly host?: string;
  readonly port?: number;
}
