import { describe, expect, it } from 'vitest';
import type { WireInstance } from '../api/types.js';
import { facets, filterRows, instanceRows } from './services.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (secondsAgo: number): string => new Date(now - secondsAgo * 1000).toISOString();
const instances: WireInstance[] = [
  {
    id: 'b',
    service_name: 'reviews',
    endpoint: { type: 'http', value: '10.0.0.2:9080' },
    ttl: 30,
    status: 'UP',
    last_heartbeat: at(45),
    tags: ['version=v2'],
  },
  {
    id: 'a',
    service_name: 'reviews',
    endpoint: { type: 'http', value: '10.0.0.1:9080' },
    ttl: 30,
    status: 'UP',
    last_heartbeat: at(5),
    tags: ['version=v1'],
  },
  {
    id: 'c',
    service_name: 'ratings',
    endpoint: { type: 'http', value: '10.0.0.3:9080' },
    status: 'OUT_OF_SERVICE',
    metadata: { 'weft.source': 'consul', 'weft.mirror': 'dc1' },
    last_heartbeat: at(3600),
  },
];

describe('instanceRows', () => {
  it('names the source, the version and the health of each instance, sorted by service then version', () => {
    const rows = instanceRows(instances, now);
    expect(rows.map((r) => [r.service, r.version, r.source, r.health])).toEqual([
      ['ratings', '–', 'consul', 'out of service'],
      ['reviews', 'version=v1', 'registry', 'healthy'],
      // 45 s since its last heartbeat with a 30 s TTL: about to expire.
      ['reviews', 'version=v2', 'registry', 'late'],
    ]);
    expect(rows[0]?.mirror).toBe('dc1');
    expect(rows[1]?.endpoint).toBe('http://10.0.0.1:9080');
  });

  it('never calls a mirrored instance late: its source decides when it goes', () => {
    const [ratings] = instanceRows([{ ...(instances[2] as WireInstance), status: 'UP' }], now);
    expect(ratings?.health).toBe('healthy');
  });
});

describe('filterRows', () => {
  const rows = instanceRows(instances, now);
  it('keeps rows with every tag, of the source, matching the text', () => {
    expect(filterRows(rows, { tags: ['version=v2'], text: '', source: '' }).map((r) => r.id)).toEqual(['b']);
    expect(filterRows(rows, { tags: [], text: '', source: 'consul' }).map((r) => r.id)).toEqual(['c']);
    expect(filterRows(rows, { tags: [], text: 'REVIEWS', source: 'registry' }).map((r) => r.id)).toEqual(['a', 'b']);
    expect(filterRows(rows, { tags: ['version=v1', 'version=v2'], text: '', source: '' })).toEqual([]);
  });

  it('lists the tags and sources to choose from', () => {
    expect(facets(rows)).toEqual({ tags: ['version=v1', 'version=v2'], sources: ['consul', 'registry'] });
  });
});
