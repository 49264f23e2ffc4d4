import { brandErrorClass } from './brand.js';
import { WeftError, type WeftErrorOptions } from './weft-error.js';

/** One validation problem: where it is and what is wrong with it. */
export interface ValidationIssue {
  /** Dotted path of the offending field (`endpoint.value`, `rules[2].route.backends[0].weight`); empty for the root. */
  path: string;
  /** What is wrong, in words a user can act on. */
  message: string;
}

/** Input failed validation. The message lists every problem; `issues` carries them structured. */
export class InvalidArgumentError extends WeftError {
  static {
    brandErrorClass(InvalidArgumentError, 'InvalidArgumentError');
  }

  /** Every problem found, never just the first. */
  readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[], options: WeftErrorOptions = {}) {
    const list = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
    super('WEFT_ERR_INVALID_ARGUMENT', `Invalid ${what}: ${list}`, options);
    this.name = 'InvalidArgumentError';
    this.issues = Object.freeze([...issues]);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The instance is unknown or its TTL expired; the client must register again (HTTP 410). */
export class UnknownInstanceError extends WeftError {
  static {
    brandErrorClass(UnknownInstanceError, 'UnknownInstanceError');
  }

  readonly instanceId: string;
  readonly namespace: string;
  constructor(instanceId: string, namespace: string, options: WeftErrorOptions = {}) {
    super(
      'WEFT_ERR_UNKNOWN_INSTANCE',
      `Instance "${instanceId}" is unknown or expired in namespace "${namespace}"; register it again`,
      options,
    );
    this.name = 'UnknownInstanceError';
    this.instanceId = instanceId;
    this.namespace = namespace;
  }
}

/** The service has never been registered (HTTP 404). */
export class UnknownServiceError extends WeftError {
  static {
    brandErrorClass(UnknownServiceError, 'UnknownServiceError');
  }

  readonly service: string;
  constructor(service: string, options: WeftErrorOptions = {}) {
    super('WEFT_ERR_UNKNOWN_SERVICE', `Service "${service}" is unknown`, options);
    this.name = 'UnknownServiceError';
    this.service = service;
  }
}

/** The namespace is full (HTTP 403). */
export class NamespaceCapacityError extends WeftError {
  static {
    brandErrorClass(NamespaceCapacityError, 'NamespaceCapacityError');
  }

  readonly namespace: string;
  readonly capacity: number;
  constructor(namespace: string, capacity: number, options: WeftErrorOptions = {}) {
    super(
      'WEFT_ERR_NAMESPACE_CAPACITY',
      `Namespace "${namespace}" is at its capacity of ${capacity} instances`,
      options,
    );
    this.name = 'NamespaceCapacityError';
    this.namespace = namespace;
    this.capacity = capacity;
  }
}

/** The object was closed. */
export class ClosedError extends WeftError {
  static {
    brandErrorClass(ClosedError, 'ClosedError');
  }

  constructor(what: string, options: WeftErrorOptions = {}) {
    super('WEFT_ERR_CLOSED', `${what} is closed`, options);
    this.name = 'ClosedError';
  }
}
