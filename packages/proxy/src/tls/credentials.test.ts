import { isWeftError, Outcome, outcomeOfError } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { handshakeError, MeshTlsClient } from './client.js';
import { announcedIdentity, MTLS_METADATA_KEY, PeerIdentityError, uriSans, verifyPeerIdentity } from './credentials.js';

const REVIEWS = 'spiffe://weft.test/ns/default/svc/reviews';

describe('verifyPeerIdentity', () => {
  it('accepts exactly the announced SPIFFE ID of the destination service', () => {
    expect(verifyPeerIdentity({ subjectaltname: `URI:${REVIEWS}` }, REVIEWS, 'reviews')).toBeUndefined();
    // DNS and IP SANs are not looked at.
    expect(
      verifyPeerIdentity({ subjectaltname: `DNS:reviews.local, URI:${REVIEWS}, IP Address:127.0.0.1` }, REVIEWS),
    ).toBeUndefined();
  });

  it('refuses another ID, none, several, or an ID of another service than the destination', () => {
    const cases: Array<[string | undefined, string, string | undefined, RegExp]> = [
      ['URI:spiffe://weft.test/ns/default/svc/ratings', REVIEWS, 'reviews', /presented .*ratings instead of/],
      ['URI:spiffe://other.test/ns/default/svc/reviews', REVIEWS, 'reviews', /instead of/],
      ['DNS:reviews', REVIEWS, 'reviews', /no SPIFFE ID/],
      [undefined, REVIEWS, 'reviews', /no SPIFFE ID/],
      [`URI:${REVIEWS}, URI:spiffe://weft.test/ns/default/svc/x`, REVIEWS, 'reviews', /instead of/],
      [`URI:${REVIEWS}`, REVIEWS, 'ratings', /an endpoint of ratings announces the identity of another service/],
      ['URI:https://reviews', 'https://reviews', 'reviews', /not a Weft SPIFFE ID/],
    ];
    for (const [san, expected, service, message] of cases) {
      const err = verifyPeerIdentity(san === undefined ? undefined : { subjectaltname: san }, expected, service);
      expect(err, san).toBeInstanceOf(PeerIdentityError);
      expect(isWeftError(err, 'WEFT_ERR_PEER_IDENTITY')).toBe(true);
      expect(err?.message).toMatch(message);
      expect(err?.expected).toBe(expected);
      // Retries, breakers and outlier detection count it as a connect failure.
      expect(outcomeOfError(err)).toBe(Outcome.ConnectFailure);
    }
  });

  it('reads URI SANs, quoted ones too', () => {
    expect(uriSans('DNS:a, URI:spiffe://t/ns/n/svc/s, URI:"x,y"')).toEqual(['spiffe://t/ns/n/svc/s', 'x,y']);
    expect(uriSans(undefined)).toEqual([]);
  });
});

describe('announcedIdentity', () => {
  it('is the weft_mtls metadata when it is a non-empty string', () => {
    expect(MTLS_METADATA_KEY).toBe('weft_mtls');
    expect(announcedIdentity({ weft_mtls: REVIEWS })).toBe(REVIEWS);
    for (const metadata of [{}, { weft_mtls: '' }, { weft_mtls: 1 }, undefined])
      expect(announcedIdentity(metadata)).toBeUndefined();
  });
});

describe('handshakeError', () => {
  it('codes a chain the bundle does not verify, and leaves transport errors alone', () => {
    const untrusted = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const coded = handshakeError(untrusted, REVIEWS);
    expect(isWeftError(coded, 'WEFT_ERR_PEER_IDENTITY')).toBe(true);
    expect(coded.cause).toBe(untrusted);
    const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(handshakeError(refused, REVIEWS)).toBe(refused);
    const timeout = Object.assign(new Error('timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    expect(handshakeError(timeout, REVIEWS)).toBe(timeout);
  });
});

describe('MeshTlsClient', () => {
  it('refuses credentials that are not a workload identity, naming the field', () => {
    for (const credentials of [undefined, {}, { tlsOptions() {}, on() {} }]) {
      try {
        new MeshTlsClient({ credentials } as never);
        expect.unreachable();
      } catch (err) {
        expect(isWeftError(err, 'WEFT_ERR_INVALID_ARGUMENT')).toBe(true);
        expect((err as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('mtls.credentials');
      }
    }
  });

  it('follows rotations only once used, and stops on close', () => {
    const listeners = new Set<() => void>();
    let reads = 0;
    const credentials = {
      tlsOptions() {
        reads++;
        throw new Error('no certificate yet');
      },
      on: (_e: 'rotated', l: () => void) => listeners.add(l),
      off: (_e: 'rotated', l: () => void) => listeners.delete(l),
    };
    const client = new MeshTlsClient({ credentials });
    expect(listeners.size).toBe(0);
    expect(() => client.secureContext()).toThrow('no certificate yet');
    expect(listeners.size).toBe(1);
    const before = client.generation;
    for (const l of listeners) l();
    expect(client.generation).toBe(before + 1);
    expect(reads).toBe(1);
    client.close();
    expect(listeners.size).toBe(0);
  });
});
