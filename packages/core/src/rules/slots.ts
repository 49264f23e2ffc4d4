import { findCookie, findQueryParam, pathOnly, type RuleRequest, readCookie, readQuery, readValue } from './request.js';

/** What a {@link RequestSlot} reads from a request. */
export type SlotKind = 'header' | 'cookie' | 'query' | 'path' | 'source_ip';

/**
 * One request attribute (a header, a cookie, a query parameter, the bare path), read at most
 * once per evaluation however many rules look at it. A rule set interns one slot per attribute
 * and stamps the cached value with the evaluation's epoch, so nothing is allocated per request
 * and a stale value from an earlier request can never be returned.
 */
export class RequestSlot {
  private epoch = -1;
  private value: string | undefined = undefined;
  /** The wire form of a query parameter name. */
  private readonly encodedName: string;

  constructor(
    readonly kind: SlotKind,
    /** Lower-case header name, cookie name, or query parameter name. */
    readonly name: string,
    /** For cookies: the slot of the Cookie header they are read from. */
    private readonly cookieHeader?: RequestSlot,
  ) {
    this.encodedName = kind === 'query' ? encodeURIComponent(name) : name;
  }

  /** The attribute's value in `request`, or undefined when absent. */
  get(request: RuleRequest, epoch: number): string | undefined {
    if (this.epoch === epoch) return this.value;
    const value = this.read(request, epoch);
    this.epoch = epoch;
    this.value = value;
    return value;
  }

  private read(request: RuleRequest, epoch: number): string | undefined {
    switch (this.kind) {
      case 'header':
        return readValue(request.headers, this.name);
      case 'cookie': {
        if (request.cookies !== undefined) return readCookie(request.cookies, this.name);
        const header = this.cookieHeader?.get(request, epoch);
        return header === undefined ? undefined : findCookie(header, this.name);
      }
      case 'query':
        if (request.query !== undefined) return readQuery(request.query, this.name);
        return request.path === undefined ? undefined : findQueryParam(request.path, this.name, this.encodedName);
      case 'path':
        return request.path === undefined ? undefined : pathOnly(request.path);
      case 'source_ip':
        return request.source?.ip;
    }
  }
}

/** Interns {@link RequestSlot}s for one rule set. */
export class SlotTable {
  private readonly slots = new Map<string, RequestSlot>();

  /** The slot of header `name` (case-insensitive). */
  header(name: string): RequestSlot {
    return this.intern('header', name.toLowerCase());
  }

  /** The slot of cookie `name`. */
  cookie(name: string): RequestSlot {
    return this.intern('cookie', name, this.header('cookie'));
  }

  /** The slot of query parameter `name`. */
  query(name: string): RequestSlot {
    return this.intern('query', name);
  }

  /** The request path without its query string. */
  path(): RequestSlot {
    return this.intern('path', '');
  }

  /** The caller's IP address. */
  sourceIp(): RequestSlot {
    return this.intern('source_ip', '');
  }

  private intern(kind: SlotKind, name: string, cookieHeader?: RequestSlot): RequestSlot {
    const key = `${kind}:${name}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new RequestSlot(kind, name, cookieHeader);
      this.slots.set(key, slot);
    }
    return slot;
  }
}
