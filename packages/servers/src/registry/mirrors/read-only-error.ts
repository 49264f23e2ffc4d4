import { WeftError } from '@weft/core';

/**
 * Renew, deregister or status change of a mirrored instance: it belongs to its source (Consul,
 * a file…), which alone adds, changes and removes it. `WEFT_ERR_MIRRORED_INSTANCE`, answered 403
 * by the registry server, naming the mirror and its source so the operator knows where to go.
 */
export class MirroredInstanceError extends WeftError {
  constructor(
    readonly id: string,
    readonly mirror: string,
    readonly sourceType: string,
    operation: 'renew' | 'deregister' | 'change the status of',
  ) {
    super(
      'WEFT_ERR_MIRRORED_INSTANCE',
      `cannot ${operation} instance ${id}: mirror "${mirror}" shows it read-only from its ${sourceType} source; change it there`,
    );
    this.name = 'MirroredInstanceError';
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), mirror: this.mirror };
  }
}
