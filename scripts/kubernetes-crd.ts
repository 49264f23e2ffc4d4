/**
 * Builds the `rules.weft.dev` CustomResourceDefinition from core's zod `RuleSchema` (used by
 * `generate-json-schemas.ts`; dev tooling, so @weft/adapters needs no zod at run time).
 */
import * as z from 'zod/mini';
import { RULE_RESOURCE } from '../packages/adapters/src/kubernetes/rule-resource.js';

/** A JSON Schema node, as zod writes it and Kubernetes reads it (plain JSON). */
type SchemaNode = { [key: string | symbol]: unknown };

/** Keywords a structural schema may keep as they are. */
const KEPT = [
  'type',
  'description',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'nullable',
] as const;

const SCALARS = new Set(['string', 'number', 'integer', 'boolean']);

function isNode(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns a JSON Schema (OpenAPI 3.0 flavour, as `z.toJSONSchema` writes it) into a Kubernetes
 * **structural** schema: `$ref`s inlined; unions collapsed (same-type scalars into that type,
 * objects into one object with every branch's fields); a field of several types (a duration as
 * seconds or `"250ms"`) left out of its object's `properties`, the object marked
 * `x-kubernetes-preserve-unknown-fields` so the field is kept as written; keywords Kubernetes refuses (`propertyNames`,
 * `additionalProperties: false` beside `properties`, `default`, `format`) dropped. The result is
 * looser than the zod schema on purpose: the API server rejects gross errors (a string where an
 * object goes), Weft's parser judges the rest and reports it in the object's status.
 */
export function structuralSchema(root: SchemaNode): SchemaNode {
  const defs = { ...(isNode(root.definitions) ? root.definitions : {}), ...(isNode(root.$defs) ? root.$defs : {}) };
  /** The node with its `$ref` inlined, and the definitions followed to get there (`seen` included). */
  const resolve = (node: SchemaNode, seen: readonly string[]): { node: SchemaNode; seen: readonly string[] } => {
    const ref = node.$ref;
    if (typeof ref !== 'string') return { node, seen };
    const name = ref.replace(/^#\/(\$defs|definitions)\//, '');
    const target = defs[name];
    if (!isNode(target) || seen.includes(name)) throw new Error(`cannot inline ${ref} (unknown or recursive)`);
    const { $ref: _, ...rest } = node;
    const inner = resolve(target, [...seen, name]);
    // The referring node's own keywords (a description) win over the definition's.
    return { node: { ...inner.node, ...rest }, seen: inner.seen };
  };

  const convert = (input: SchemaNode, outer: readonly string[]): SchemaNode => {
    // `seen`: the definitions this node is inside of; meeting one again would never end.
    const { node, seen } = resolve(input, outer);
    const branches = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
    if (Array.isArray(node.allOf)) {
      const merged: SchemaNode = {};
      for (const b of node.allOf) if (isNode(b)) Object.assign(merged, resolve(b, seen).node);
      const { allOf: _, ...rest } = node;
      return convert({ ...merged, ...rest }, seen);
    }
    if (Array.isArray(branches)) return union(node, branches.filter(isNode), seen);
    const out: SchemaNode = {};
    for (const key of KEPT) if (node[key] !== undefined) out[key] = node[key];
    if (Array.isArray(node.type)) return mixed(node);
    if (node.type === 'object') {
      if (isNode(node.properties)) {
        const properties: SchemaNode = {};
        const untyped: string[] = [];
        for (const [k, v] of Object.entries(node.properties)) {
          if (!isNode(v)) continue;
          const field = convert(v, seen);
          if (field[MIXED] === true) untyped.push(k);
          else properties[k] = field;
        }
        out.properties = properties;
        const required = Array.isArray(node.required) ? node.required.filter((k) => !untyped.includes(k)) : [];
        if (required.length > 0) out.required = required;
        if (untyped.length > 0) {
          // A field of several types has no structural schema: the object keeps it unpruned.
          out['x-kubernetes-preserve-unknown-fields'] = true;
          const note = `Also ${untyped.join(', ')} (several types: checked by Weft, not by the API server).`;
          out.description = typeof out.description === 'string' ? `${out.description} ${note}` : note;
        }
      } else if (isNode(node.additionalProperties)) {
        const values = convert(node.additionalProperties, seen);
        if (values[MIXED] === true) out['x-kubernetes-preserve-unknown-fields'] = true;
        else out.additionalProperties = values;
      } else {
        out['x-kubernetes-preserve-unknown-fields'] = true;
      }
    } else if (node.type === 'array') {
      const items = isNode(node.items) ? convert(node.items, seen) : mixed(node);
      if (items[MIXED] === true) return mixed(node);
      out.items = items;
    } else if (node.type === undefined && node.enum === undefined) {
      return mixed(node);
    }
    return out;
  };

  /** A value of several types: its parent object keeps it without a schema (a type is required of every field). */
  const mixed = (node: SchemaNode): SchemaNode => ({ [MIXED]: true, description: node.description });

  const union = (node: SchemaNode, list: SchemaNode[], seen: readonly string[]): SchemaNode => {
    const converted = list.map((b) => convert(b, seen));
    const types = new Set(converted.map((b) => b.type));
    const description = typeof node.description === 'string' ? { description: node.description } : {};
    const [only] = types;
    if (types.size === 1 && typeof only === 'string' && SCALARS.has(only)) {
      const enums = converted.every((b) => Array.isArray(b.enum)) ? converted.flatMap((b) => b.enum as unknown[]) : [];
      return { type: only, ...description, ...(enums.length > 0 ? { enum: [...new Set(enums)] } : {}) };
    }
    if (types.size === 1 && only === 'object' && converted.every((b) => isNode(b.properties))) {
      const properties: SchemaNode = {};
      for (const b of converted)
        for (const [k, v] of Object.entries(b.properties as SchemaNode)) {
          properties[k] = mergeField(properties[k] as SchemaNode | undefined, v as SchemaNode);
        }
      const untyped = Object.keys(properties).filter((k) => (properties[k] as SchemaNode)[MIXED] === true);
      for (const k of untyped) delete properties[k];
      const required = converted
        .map((b) => (Array.isArray(b.required) ? (b.required as string[]) : []))
        .reduce((a, b) => a.filter((k) => b.includes(k)));
      const kept = required.filter((k) => !untyped.includes(k));
      return {
        type: 'object',
        ...description,
        properties,
        ...(kept.length > 0 ? { required: kept } : {}),
        ...(untyped.length > 0 || converted.some((b) => b['x-kubernetes-preserve-unknown-fields'] === true)
          ? { 'x-kubernetes-preserve-unknown-fields': true }
          : {}),
      };
    }
    return mixed(node);
  };

  const schema = convert(root, []);
  if (schema[MIXED] === true) throw new Error('the root of a structural schema must have one type');
  return schema;
}

/**
 * One field as two union branches declare it: the first's schema when both agree on the type
 * (with the union of their enums: `action` is `delay` in one branch, `abort` in another), no
 * single type otherwise.
 */
function mergeField(known: SchemaNode | undefined, next: SchemaNode): SchemaNode {
  if (known === undefined) return next;
  if (known.type !== next.type || known[MIXED] === true || next[MIXED] === true) return { [MIXED]: true };
  if (Array.isArray(known.enum) && Array.isArray(next.enum))
    return { ...known, enum: [...new Set([...known.enum, ...next.enum])] };
  if (known.enum === undefined) return known;
  const { enum: _, ...open } = known;
  return open;
}

/** Marks a converted node that has no single type (never left in a result). */
const MIXED = Symbol('mixed');

/** The `spec` schema: the rule's structural schema, without `id` (the object's name is the id). */
function specSchema(ruleSchema: z.core.$ZodType): SchemaNode {
  const json = z.toJSONSchema(ruleSchema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'any' });
  const rule = structuralSchema(json as unknown as SchemaNode);
  const { id: _, ...properties } = rule.properties as SchemaNode;
  return {
    ...rule,
    description:
      'The rule (Amalgam8 /v1/rules, extended), without `id`: the object name is the id. Weft validates it fully and reports problems in status.conditions[type=Accepted].',
    properties,
  };
}

const STATUS_SCHEMA: SchemaNode = {
  type: 'object',
  description: 'Whether Weft accepted the rule, written by the controller and rules sources that read it.',
  properties: {
    observedGeneration: { type: 'integer', description: 'The metadata.generation the status describes.' },
    ruleKind: { type: 'string', enum: ['route', 'actions'], description: 'route or actions, once accepted.' },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status'],
        properties: {
          type: { type: 'string' },
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: { type: 'string' },
          message: { type: 'string' },
          observedGeneration: { type: 'integer' },
          lastTransitionTime: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
};

/**
 * The CustomResourceDefinition of `RULE_RESOURCE`, with the OpenAPI v3 schema generated from
 * `ruleSchema` (core's `RuleSchema`). `generate-json-schemas.ts` writes it to
 * `packages/adapters/kubernetes/rules.weft.dev.crd.yaml` (shipped with @weft/adapters).
 */
export function buildRulesCrd(ruleSchema: z.core.$ZodType): SchemaNode {
  const r = RULE_RESOURCE;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${r.plural}.${r.group}` },
    spec: {
      group: r.group,
      scope: 'Namespaced',
      names: {
        plural: r.plural,
        singular: r.singular,
        kind: r.kind,
        listKind: r.listKind,
        shortNames: [...r.shortNames],
        categories: ['weft'],
      },
      versions: [
        {
          name: r.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Destination', type: 'string', jsonPath: '.spec.destination' },
            { name: 'Priority', type: 'integer', jsonPath: '.spec.priority' },
            { name: 'Kind', type: 'string', jsonPath: '.status.ruleKind' },
            { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A Weft routing or action rule (Amalgam8). One object per rule; the name is the rule id.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema(ruleSchema),
                status: STATUS_SCHEMA,
              },
            },
          },
        },
      ],
    },
  };
}
