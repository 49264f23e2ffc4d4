/** The operator commands given the control plane's replicas: the next URL is tried when one cannot be reached. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../sidecar-agent/helpers.js';
import { type ControlPlane, startControlPlane, storedRules, weft } from './helpers.js';

let cp: ControlPlane;
let dead: string;

beforeAll(async () => {
  cp = await startControlPlane();
  await cp.register('reviews', ['version=v1'], 9001);
  dead = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => cp?.stop());

it('reads and writes through the first replica that can be reached', async () => {
  const env = { A8_CONTROLLER_URL: `${dead},${cp.url}`, A8_REGISTRY_URL: `${dead}, ${cp.url}` };
  // A write is sent on only when the first replica surely never got it (the connection was refused).
  const set = await weft(['route-set', 'reviews', '--default', 'v1'], { env });
  expect(set.stderr).toBe('');
  expect(set.code).toBe(0);
  expect(await storedRules(cp.url, 'reviews')).toHaveLength(1);
  const list = await weft(['--debug', 'service-list', '-o', 'json'], { env });
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ service: 'reviews' })]);
  expect(list.stderr).toContain(`cannot reach the registry at ${dead}`);
  expect(list.stderr).toContain(`trying ${cp.url}`);

  // With no replica reachable, the error names the last one tried.
  const none = await weft(['route-list'], { env: { A8_CONTROLLER_URL: `${dead},${dead}/` } });
  expect(none.code).toBe(1);
  expect(none.stderr).toContain(`cannot reach the controller at ${dead}`);
});
