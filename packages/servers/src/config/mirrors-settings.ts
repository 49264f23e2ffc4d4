import * as z from 'zod/mini';
import { setting } from './define.js';
import { setUpZod } from './zod-setup.js';

setUpZod();

/**
 * The catalogues a registry can mirror (`registry.mirrors[i].source.type`). Kept free of
 * `@weft/core` and `@weft/adapters` imports, as every config schema is, so `weft --help` and
 * config errors load neither; the adapters are imported when a mirror is opened.
 */
export const MIRROR_SOURCE_TYPES = ['consul', 'etcd', 'kubernetes', 'weave', 'file'] as const;
export type MirrorSourceType = (typeof MIRROR_SOURCE_TYPES)[number];

/** core's endpoint types, repeated here for the reason above. */
const ENDPOINT_TYPES = ['http', 'https', 'tcp', 'udp', 'user'] as const;

const text = z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' }));
const names = z.array(text, { error: 'must be a list of names' });
const urls = z.union([text, z.array(text).check(z.minLength(1, { error: 'must list at least one URL' }))], {
  error: 'must be a URL or a list of URLs',
});
const flag = z.boolean({ error: 'must be true or false' });
const endpointType = z.enum(ENDPOINT_TYPES, { error: `must be one of ${ENDPOINT_TYPES.join(', ')}` });
const seconds = z
  .number({ error: 'must be a number of seconds' })
  .check(z.int({ error: 'must be a whole number' }), z.minimum(1, { error: 'must be ≥ 1' }));

/**
 * Each source's options are the plain-data ones of its adapter in `@weft/adapters`, under the
 * same names; secrets come from files only (`tokenFile`), so `--print-config` never shows one.
 */
const ConsulMirrorSource = z.strictObject({
  type: z.literal('consul'),
  address: z.optional(text),
  datacenter: z.optional(text),
  tokenFile: z.optional(text),
  waitSeconds: z.optional(seconds.check(z.maximum(600, { error: 'must be ≤ 600' }))),
  emptyAddress: z.optional(z.enum(['node', 'skip'], { error: 'must be node or skip' })),
  endpointType: z.optional(endpointType),
  exclude: z.optional(names),
});

const EtcdMirrorSource = z.strictObject({
  type: z.literal('etcd'),
  hosts: z.optional(urls),
  prefix: z.optional(text),
  /** The namespace of the Weft registry kept in etcd to read (not the one mirrored into). */
  namespace: z.optional(text),
});

const KubernetesMirrorSource = z.strictObject({
  type: z.literal('kubernetes'),
  kubeconfig: z.optional(text),
  context: z.optional(text),
  inCluster: z.optional(flag),
  namespace: z.optional(text),
  labelSelector: z.optional(z.string({ error: 'must be a string' })),
  port: z.optional(
    z.union([text, z.number().check(z.int(), z.minimum(1), z.maximum(65535))], {
      error: 'must be a port name or number',
    }),
  ),
  podLabelsAsTags: z.optional(flag),
  endpointType: z.optional(endpointType),
  /** The mesh's trust domain, for the SPIFFE ids of Services that mark an mTLS port (adapter default `weft.local`). */
  mtlsTrustDomain: z.optional(text),
});

const WeaveMirrorSource = z.strictObject({
  type: z.literal('weave'),
  endpoints: z.optional(urls),
  root: z.optional(text),
});

const FileMirrorSource = z.strictObject({
  type: z.literal('file'),
  path: text,
});

/** Where a mirror reads from: one of the adapters, by `type`, with that adapter's options. */
export const MirrorSourceSchema = z.discriminatedUnion(
  'type',
  [ConsulMirrorSource, EtcdMirrorSource, KubernetesMirrorSource, WeaveMirrorSource, FileMirrorSource],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? `must be one of ${MIRROR_SOURCE_TYPES.join(', ')}` : 'must be a mapping',
  },
);
export type MirrorSourceConfig = z.output<typeof MirrorSourceSchema>;

/** `team-a=consul:http://127.0.0.1:8500`: namespace (optional), source type, its address or path. */
const SHORT_FORM = /^(?:([^\s=:]+)=)?([a-z]+):(.*)$/;

/**
 * The short form a flag or environment variable carries, as the mapping it stands for:
 * `[<namespace>=]<type>:<target>`, the target being the address (consul), the hosts or endpoints
 * (etcd, weave: `+`-separated), the kubeconfig context (kubernetes; empty: the default) or the
 * path (file). Text that is not of that form is passed on, for the schema to refuse.
 */
function fromShortForm(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = SHORT_FORM.exec(value.trim());
  if (m === null) return value;
  const [, namespace, type, target = ''] = m;
  const source: Record<string, unknown> = { type };
  const list = target.split('+').filter((t) => t !== '');
  if (target !== '')
    if (type === 'consul') source.address = target;
    else if (type === 'etcd') source.hosts = list;
    else if (type === 'weave') source.endpoints = list;
    else if (type === 'kubernetes') source.context = target;
    else source.path = target;
  return { ...(namespace === undefined ? {} : { namespace }), source };
}

/** One mirror: a catalogue overlaid, read-only, on a namespace of the registry. */
export const MirrorSchema = z.pipe(
  z.transform(fromShortForm),
  z.strictObject(
    {
      /** Names the mirror in errors, `/health` and `GET /api/v1/mirrors`. Default `<type>:<namespace>`. */
      name: z.optional(text),
      /** The registry namespace the instances appear in. Default `default`. */
      namespace: z.optional(text),
      /** Only these services of the source; every service when absent. */
      services: z.optional(names),
      source: MirrorSourceSchema,
    },
    {
      error:
        'must be a mapping {name, namespace, services, source: {type, …}} or [<namespace>=]<type>:<target> (e.g. consul:http://127.0.0.1:8500)',
    },
  ),
);
export type MirrorConfig = z.output<typeof MirrorSchema>;

/** The name of a mirror when it gives none. */
export function mirrorName(
  mirror: { name?: string | undefined; namespace?: string | undefined },
  type: string,
): string {
  return mirror.name ?? `${type}:${mirror.namespace ?? 'default'}`;
}

/** Mirror names must be unique: they are how errors, `/health` and the status route name a mirror. */
export const MirrorListSchema = z.array(MirrorSchema, { error: 'must be a list of mirrors' }).check(
  z.superRefine((mirrors, ctx) => {
    const seen = new Set<string>();
    mirrors.forEach((m, i) => {
      const name = mirrorName(m, m.source.type);
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicates mirror "${name}"; give each mirror its own name`,
        });
      seen.add(name);
    });
  }),
);

/** `registry.mirrors`: other catalogues shown, read-only, in the registry's namespaces. */
export function mirrorsSetting() {
  return setting(MirrorListSchema, {
    kind: 'list',
    placeholder: '<[ns=]type:target,…>',
    description:
      'Catalogues mirrored read-only into the registry: mappings {name, namespace, services, source: {type: consul|etcd|kubernetes|weave|file, …its options}} in the file, or [<namespace>=]<type>:<target> (consul:http://127.0.0.1:8500, file:./external.yaml)',
    default: [],
  });
}
