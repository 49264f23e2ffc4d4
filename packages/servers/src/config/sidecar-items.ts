import * as z from 'zod/mini';

/**
 * The list items of `weft sidecar`'s config: health checks, app commands and TCP proxies. Each
 * takes a short string form (what a flag or an `A8_*` variable can carry) or a mapping (the
 * config file). The config keeps them as written — `--print-config` must print what a user could
 * write back — and the agent turns them into the supervisor's and health monitor's types.
 */

const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/;
const duration = z.string().check(z.regex(DURATION, { error: 'must be a duration with a unit, such as 500ms or 5s' }));
const positive = z.number().check(z.int({ error: 'must be a whole number' }), z.minimum(1, { error: 'must be ≥ 1' }));
const port = z.number().check(z.int({ error: 'must be a port number' }), z.minimum(1), z.maximum(65535));
const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));

export const HEALTH_TYPES = ['http', 'https', 'tcp', 'command'] as const;

/** `http://127.0.0.1:5000/health`, `https://…`, `tcp://host:port`. */
const HEALTH_URL = /^(?:https?:\/\/\S+|tcp:\/\/[^\s/:]+:\d{1,5})$/;

/** One health check: a URL (`http://…`, `https://…`, `tcp://host:port`) or a mapping. */
export const HealthCheckItemSchema = z.union([
  z
    .string()
    .check(
      z.regex(HEALTH_URL, { error: 'must be an http://, https:// or tcp://host:port URL (or a mapping in the file)' }),
    ),
  z
    .strictObject({
      type: z.enum(HEALTH_TYPES, { error: `must be one of ${HEALTH_TYPES.join(', ')}` }),
      url: z.optional(text),
      method: z.optional(text),
      expectStatus: z.optional(z.number().check(z.int(), z.minimum(100), z.maximum(599))),
      insecure: z.optional(z.boolean()),
      host: z.optional(text),
      port: z.optional(port),
      cmd: z.optional(z.union([text, z.array(text).check(z.minLength(1))])),
      interval: z.optional(duration),
      timeout: z.optional(duration),
      healthyThreshold: z.optional(positive),
      unhealthyThreshold: z.optional(positive),
    })
    .check(
      z.superRefine((c, ctx) => {
        const need = (key: string, why: string): void =>
          ctx.addIssue({ code: 'custom', path: [key], message: `is required for a ${c.type} check (${why})` });
        if ((c.type === 'http' || c.type === 'https') && c.url === undefined) need('url', 'the URL to GET');
        if (c.type === 'tcp' && (c.host === undefined || c.port === undefined))
          need(c.host === undefined ? 'host' : 'port', 'where to connect');
        if (c.type === 'command' && c.cmd === undefined) need('cmd', 'the program to run; exit 0 is healthy');
      }),
    ),
]);
export type HealthCheckItem = z.output<typeof HealthCheckItemSchema>;

export const ON_EXIT = ['ignore', 'terminate'] as const;

/**
 * One app command (Amalgam8's `commands: [{cmd, env, on_exit}]`): a command line split on
 * whitespace (no shell), or a mapping whose `cmd` is a string or an argv list.
 */
export const CommandItemSchema = z.union([
  text,
  z.strictObject({
    cmd: z.union([text, z.array(z.string()).check(z.minLength(1, { error: 'must name a program' }))]),
    env: z.optional(z.record(z.string(), z.string())),
    onExit: z.optional(z.enum(ON_EXIT, { error: `must be one of ${ON_EXIT.join(', ')}` })),
  }),
]);
export type CommandItem = z.output<typeof CommandItemSchema>;

/** A TCP listener for one service: `redis:6380` or `{service, port}` (port 0 picks one). */
export const TcpProxyItemSchema = z.union([
  z.string().check(z.regex(/^[^\s:]+:\d{1,5}$/, { error: 'must be service:port' })),
  z.strictObject({ service: text, port: z.number().check(z.int(), z.minimum(0), z.maximum(65535)) }),
]);
export type TcpProxyItem = z.output<typeof TcpProxyItemSchema>;

/** A fraction in (0, 1), as a number (`0.5`) or a ratio (`1/3`). */
export const FractionSchema = z.pipe(
  z.union([
    z.number(),
    z.string().check(z.regex(/^(?:\d+\/\d+|\d*\.?\d+)$/, { error: 'must be a fraction such as 1/3 or 0.5' })),
  ]),
  z
    .transform((v: number | string) => {
      if (typeof v === 'number') return v;
      const [a, b] = v.split('/');
      return b === undefined ? Number(a) : Number(a) / Number(b);
    })
    .check(z.refine((n: number) => n > 0 && n < 1, { error: 'must lie strictly between 0 and 1' })),
);
