import { RuleSchema } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { buildRulesCrd, structuralSchema } from '../../scripts/kubernetes-crd.js';

/** Every node of a schema, with its path. */
function* nodes(node: unknown, path = '$'): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return;
  const n = node as Record<string, unknown>;
  yield [path, n];
  for (const [k, v] of Object.entries((n.properties as Record<string, unknown>) ?? {})) yield* nodes(v, `${path}.${k}`);
  if (n.items !== undefined) yield* nodes(n.items, `${path}[]`);
  if (typeof n.additionalProperties === 'object') yield* nodes(n.additionalProperties, `${path}{}`);
}

describe('structuralSchema', () => {
  it('inlines $refs, keeping the referring description', () => {
    const out = structuralSchema({
      $defs: { Name: { type: 'string', minLength: 1, description: 'a name' } },
      type: 'object',
      properties: { who: { $ref: '#/$defs/Name', description: 'who calls' } },
    });
    expect(out).toEqual({
      type: 'object',
      properties: { who: { type: 'string', minLength: 1, description: 'who calls' } },
    });
  });

  it('collapses a union of one scalar type, and merges object branches (enums joined)', () => {
    const out = structuralSchema({
      type: 'object',
      properties: {
        s: {
          anyOf: [
            { type: 'string', pattern: '^a' },
            { type: 'string', pattern: '^b' },
          ],
        },
        o: {
          oneOf: [
            {
              type: 'object',
              properties: { kind: { type: 'string', enum: ['a'] }, x: { type: 'integer' } },
              required: ['kind', 'x'],
            },
            {
              type: 'object',
              properties: { kind: { type: 'string', enum: ['b'] }, y: { type: 'string' } },
              required: ['kind'],
            },
          ],
        },
      },
    });
    expect(out.properties).toEqual({
      s: { type: 'string' },
      o: {
        type: 'object',
        properties: { kind: { type: 'string', enum: ['a', 'b'] }, x: { type: 'integer' }, y: { type: 'string' } },
        required: ['kind'],
      },
    });
  });

  it('leaves a field of several types out of its object, which keeps it unpruned', () => {
    const out = structuralSchema({
      type: 'object',
      required: ['timeout', 'name'],
      properties: {
        name: { type: 'string' },
        timeout: { anyOf: [{ type: 'number' }, { type: 'string' }] },
        list: { type: 'array', items: { anyOf: [{ type: 'number' }, { type: 'string' }] } },
        map: {
          type: 'object',
          additionalProperties: { anyOf: [{ type: 'string' }, { type: 'object', properties: {} }] },
        },
      },
    });
    expect(out).toEqual({
      type: 'object',
      properties: { name: { type: 'string' }, map: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      required: ['name'],
      'x-kubernetes-preserve-unknown-fields': true,
      description: 'Also timeout, list (several types: checked by Weft, not by the API server).',
    });
  });

  it('refuses a root without one type, and a recursive $ref', () => {
    expect(() => structuralSchema({ anyOf: [{ type: 'string' }, { type: 'number' }] })).toThrow(/one type/);
    expect(() =>
      structuralSchema({
        $defs: { T: { type: 'object', properties: { t: { $ref: '#/$defs/T' } } } },
        $ref: '#/$defs/T',
      }),
    ).toThrow(/recursive/);
  });
});

describe('the rules CRD', () => {
  const crd = buildRulesCrd(RuleSchema) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[] };
  };
  const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec;

  it('types every node and uses no keyword a structural schema refuses', () => {
    for (const [path, node] of nodes(spec)) {
      expect(typeof node.type, path).toBe('string');
      for (const banned of ['$ref', 'anyOf', 'oneOf', 'allOf', 'propertyNames', 'default', 'format', '$defs'])
        expect(node[banned], `${path}.${banned}`).toBeUndefined();
      if (node.properties !== undefined) expect(node.additionalProperties, path).toBeUndefined();
    }
  });

  it('leaves the id out of the spec (the object name is the id) and keeps the destination required', () => {
    expect(Object.keys(spec?.properties as object)).not.toContain('id');
    expect(spec?.required).toEqual(['destination']);
  });
});
