'use strict'
// The error classes, and the one place that maps the core's error kinds onto them. The native
// layer hands over every failure as data ({ kind, message, status, detail, headers, ... });
// nothing here decodes HTTP: the Rust core already did.

/** Every error the package throws or rejects with. */
class VectorcacheError extends Error {
  constructor(message, fields = {}) {
    super(message)
    this.name = new.target.name
    /** The core's stable kind name, e.g. 'authentication', 'rate_limited', 'timeout'. */
    this.kind = fields.kind ?? 'unknown'
    this.statusCode = fields.status ?? undefined
    this.detail = fields.detail ?? undefined
    // Always an object, so `error.headers['x-ratelimit-reset']` is safe on any error.
    this.headers = fields.headers ?? {}
    this.body = fields.body ?? undefined
    this.requestId = fields.requestId ?? undefined
    this.retryAfter = fields.retryAfter ?? undefined
    this.rateLimit = fields.rateLimit ?? undefined
    this.attempts = fields.attempts ?? undefined
    // The shape one documentation guide reads (`error.response?.status`), HTTP errors only.
    this.response =
      this.statusCode === undefined
        ? undefined
        : { status: this.statusCode, headers: this.headers, data: fields.data ?? this.body }
  }
}

/** The server answered with an error status (or a 2xx body that cannot be decoded). */
class VectorcacheAPIError extends VectorcacheError {}
/** 400 and 422 from the server; also local problems with the request, the key or options (no statusCode). */
class VectorcacheValidationError extends VectorcacheAPIError {}
/** A missing key or unusable options (insecure base URL, bad timeout), found before any request. */
class VectorcacheConfigurationError extends VectorcacheValidationError {}
/** 401: missing, invalid, unknown or revoked key. */
class VectorcacheAuthenticationError extends VectorcacheAPIError {}
/** 403: the key may not access this project. */
class VectorcachePermissionError extends VectorcacheAPIError {}
/** 404. */
class VectorcacheNotFoundError extends VectorcacheAPIError {}
/** 429; `retryAfter` is the wait the server asked for, in seconds. */
class VectorcacheRateLimitError extends VectorcacheAPIError {}
/** 5xx. */
class VectorcacheServerError extends VectorcacheAPIError {}
/** A success status whose body is not the documented JSON. */
class VectorcacheResponseValidationError extends VectorcacheAPIError {}
/** The connection could not be made or broke (refused, reset, DNS, TLS). */
class VectorcacheNetworkError extends VectorcacheError {}
/** An attempt did not complete within `timeout`. */
class VectorcacheTimeoutError extends VectorcacheNetworkError {}

/** Core kind → class. The core's `status` kind (other statuses) is decided by status below. */
const CLASS_BY_KIND = Object.freeze({
  __proto__: null,
  bad_request: VectorcacheValidationError,
  unprocessable_entity: VectorcacheValidationError,
  authentication: VectorcacheAuthenticationError,
  permission_denied: VectorcachePermissionError,
  not_found: VectorcacheNotFoundError,
  rate_limited: VectorcacheRateLimitError,
  internal_server: VectorcacheServerError,
  bad_gateway: VectorcacheServerError,
  service_unavailable: VectorcacheServerError,
  decode: VectorcacheResponseValidationError,
  timeout: VectorcacheTimeoutError,
  connection: VectorcacheNetworkError,
  missing_api_key: VectorcacheConfigurationError,
  invalid_config: VectorcacheConfigurationError,
  invalid_api_key: VectorcacheValidationError,
  invalid_request: VectorcacheValidationError,
})

/** The class for a native error: by kind, else (kind `status`, or one newer than this file) by status. */
function classFor({ kind, status }) {
  const byKind = CLASS_BY_KIND[kind]
  if (byKind) return byKind
  if (status >= 500) return VectorcacheServerError
  if (status !== undefined && status !== null) return VectorcacheAPIError
  return VectorcacheError
}

/** Builds the typed error from the native layer's structured error. */
function fromNative(native) {
  const ErrorClass = classFor(native)
  return new ErrorClass(native.message, native)
}

/** Something the native layer threw instead of returning (a bug, or napi itself failing). */
function fromUnexpected(cause) {
  if (cause instanceof VectorcacheError) return cause
  const message = cause instanceof Error ? cause.message : String(cause)
  const error = new VectorcacheError(`unexpected failure in the native client: ${message}`, {
    kind: 'internal',
  })
  error.cause = cause
  return error
}

module.exports = {
  VectorcacheError,
  VectorcacheAPIError,
  VectorcacheValidationError,
  VectorcacheConfigurationError,
  VectorcacheAuthenticationError,
  VectorcachePermissionError,
  VectorcacheNotFoundError,
  VectorcacheRateLimitError,
  VectorcacheServerError,
  VectorcacheResponseValidationError,
  VectorcacheNetworkError,
  VectorcacheTimeoutError,
  fromNative,
  fromUnexpected,
}
