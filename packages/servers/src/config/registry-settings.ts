import * as z from 'zod/mini';
import { section, setting } from './define.js';
import { DurationSchema } from './duration.js';
import { mirrorsSetting } from './mirrors-settings.js';
import { storeSection } from './store-settings.js';

const capacity = z
  .number({ error: 'must be a whole number' })
  .check(z.int({ error: 'must be a whole number' }), z.minimum(1, { error: 'must be at least 1' }));

/**
 * The registry's settings (`registry.*`): its store, its namespaces' capacity and the TTL policy.
 * `sharedStore`: the command has the `store` short form (see `storeSection`).
 */
export function registrySection(sharedStore = false) {
  return section(
    {
      store: storeSection(
        'registry',
        'registered instances',
        'saved before each registration is acknowledged',
        {
          debounce: setting(DurationSchema, {
            kind: 'duration',
            description: 'How long other changes of a file store (expiries) accumulate before the file is rewritten',
            default: '1s',
          }),
        },
        sharedStore,
      ),
      capacity: setting(capacity, {
        kind: 'integer',
        placeholder: '<n>',
        description:
          'Most instances one namespace may hold; a registration beyond it is refused with 403 (unlimited when unset)',
      }),
      requireHttps: setting(z.boolean({ error: 'must be true or false' }), {
        kind: 'boolean',
        description:
          "Redirect plain-HTTP requests to HTTPS (301), for a registry behind a TLS proxy that sets X-Forwarded-Proto (Amalgam8's --require_https)",
        default: false,
      }),
      prefix: setting(
        z
          .string()
          .check(z.regex(/^(\/[^?#]*[^/?#])?$/, { error: 'must start with / and not end with one (e.g. /registry)' })),
        {
          kind: 'string',
          placeholder: '<path>',
          description: 'Path the /api/v1 routes are mounted under, e.g. /registry (Amalgam8: the root)',
          default: '',
        },
      ),
      watchLinger: setting(DurationSchema, {
        kind: 'duration',
        description:
          'How long a registry watch opened for readers outlives its last reader, so repeated reads and reconnecting watchers share it',
        default: '30s',
      }),
      eureka: section(
        {
          enabled: setting(z.boolean({ error: 'must be true or false' }), {
            kind: 'boolean',
            description:
              "Serve Eureka's REST API (v2) on the same registry, for Spring / Netflix / Python Eureka clients",
            default: true,
          }),
          prefix: setting(
            z
              .string()
              .check(z.regex(/^\/[^?#]*[^/?#]$/, { error: 'must start with / and not end with one (e.g. /eureka)' })),
            {
              kind: 'string',
              placeholder: '<path>',
              description: 'Path of the Eureka API: <prefix>/apps and <prefix>/v2/apps both answer',
              default: '/eureka',
            },
          ),
        },
        "Eureka's REST API beside Amalgam8's",
      ),
      ttl: section(
        {
          default: setting(DurationSchema, {
            kind: 'duration',
            description: 'TTL of a registration that asks for none (Amalgam8: 30s)',
            default: '30s',
          }),
          min: setting(DurationSchema, {
            kind: 'duration',
            description: 'Shorter TTLs asked for are raised to this (Amalgam8: 10s)',
            default: '10s',
          }),
          max: setting(DurationSchema, {
            kind: 'duration',
            description: 'Longer TTLs asked for are lowered to this (Amalgam8: 10m)',
            default: '10m',
          }),
        },
        'How long a registration lives without a heartbeat',
      ),
      mirrors: mirrorsSetting(),
    },
    'The registry (Amalgam8 /api/v1)',
  );
}

/** The cross-field rules of the TTL policy (the registry would refuse it anyway, without naming the origin). */
export function checkTtl(
  ttl: { default: number; min: number; max: number },
  issue: (path: readonly string[], message: string) => void,
): void {
  if (ttl.min > ttl.max) issue(['registry', 'ttl', 'min'], 'must not exceed registry.ttl.max');
  else if (ttl.default < ttl.min || ttl.default > ttl.max)
    issue(['registry', 'ttl', 'default'], 'must lie between registry.ttl.min and registry.ttl.max');
  if (ttl.min < 1000) issue(['registry', 'ttl', 'min'], 'must be at least 1s (TTLs are whole seconds on the wire)');
}
