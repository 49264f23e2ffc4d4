export { brandErrorClass } from './brand.js';
export { type ErrorCode, ErrorCodes, type WarningCode, WarningCodes } from './codes.js';
export {
  ClosedError,
  InvalidArgumentError,
  NamespaceCapacityError,
  UnknownInstanceError,
  UnknownServiceError,
  type ValidationIssue,
} from './specific.js';
export { formatPath, parseOrThrow, toValidationIssues } from './validate.js';
export { isWeftError, WeftError, type WeftErrorOptions } from './weft-error.js';
