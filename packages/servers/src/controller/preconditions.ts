import { InvalidArgumentError } from '@weft/core';
import type { FastifyRequest } from 'fastify';
import type { WriteOptions } from '../rules-store/types.js';

/** `If-Match: "12"` (also `12`, `W/"12"`); `*` means any revision. */
const REVISION_TAG = /^(?:W\/)?"?(\d{1,15})"?$/;

/**
 * A write's compare-and-set, from `If-Match: "<revision>"` (the `revision` of a previous read):
 * the write applies only if the namespace is still at that revision, else 412 and nothing is
 * written. Without the header, writes apply unconditionally, as in Amalgam8. (A `revision` in
 * the body is not used for this: Amalgam8's Go client always sends `0` there.)
 *
 * @throws InvalidArgumentError when the header is not a revision.
 */
export function writeOptions(request: FastifyRequest): WriteOptions {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return {};
  const m = REVISION_TAG.exec(header.trim());
  if (m === null)
    throw new InvalidArgumentError('If-Match header', [
      { path: 'If-Match', message: `must be a revision such as "12" (got ${JSON.stringify(header)})` },
    ]);
  return { ifRevision: Number(m[1]) };
}
