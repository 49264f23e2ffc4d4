import { describe, expect, it } from 'vitest';
import { explainRequest } from './explain-form.js';

const empty = { destination: '', source: '', sourceTags: '', method: '', path: '', headers: '' };

describe('explainRequest', () => {
  it('builds the body of POST /v1/rules/explain from the form', () => {
    expect(
      explainRequest({
        destination: ' reviews ',
        source: 'productpage',
        sourceTags: 'version=v1, canary',
        method: 'get',
        path: '/reviews/1',
        headers: 'Cookie: user=jason\n\nX-Trace: a:b\n',
      }),
    ).toEqual({
      request: {
        destination: 'reviews',
        source: { name: 'productpage', tags: ['version=v1', 'canary'] },
        method: 'GET',
        path: '/reviews/1',
        headers: { Cookie: 'user=jason', 'X-Trace': 'a:b' },
      },
    });
    expect(explainRequest({ ...empty, destination: 'ratings' })).toEqual({ request: { destination: 'ratings' } });
  });

  it('names each field that is wrong', () => {
    expect(explainRequest({ ...empty, headers: 'Cookie user=jason', path: 'reviews' })).toEqual({
      problems: {
        destination: 'is required: the service the request is for',
        headers: 'line 1: write "Name: value"',
        path: 'must start with /',
      },
    });
  });
});
