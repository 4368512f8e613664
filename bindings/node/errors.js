'use strict'
// The error classes. The native layer hands over every failure as data ({ kind, errorClass,
// message, status, detail, headers, ... }); which class it becomes was decided in Rust (an
// exhaustive match on the core's error kind), so nothing here decodes HTTP or compares kinds.

/** Every error the package throws or rejects with. */
class VectorcacheError extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
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

  /** The HTTP status (as in fetch's `Response.status`); the same as `statusCode`. */
  get status() {
    return this.statusCode
  }
}

/** The service or the network was involved: every error that is not a local mistake. */
class VectorcacheAPIError extends VectorcacheError {}
/** 400 and 422 from the server. */
class VectorcacheValidationError extends VectorcacheAPIError {}
/** 401: missing, invalid, unknown or revoked key. */
class VectorcacheAuthenticationError extends VectorcacheAPIError {}
/** 403: the key may not access this project. */
class VectorcachePermissionError extends VectorcacheAPIError {}
/** 404. */
class VectorcacheNotFoundError extends VectorcacheAPIError {}
/** 429; `retryAfter` is the wait the server asked for, in seconds. */
class VectorcacheRateLimitError extends VectorcacheAPIError {}
/** Any 5xx. */
class VectorcacheServerError extends VectorcacheAPIError {}
/** A success status whose body is not the documented JSON. */
class VectorcacheResponseValidationError extends VectorcacheAPIError {}
/** The connection could not be made or broke (refused, reset, DNS, TLS). */
class VectorcacheNetworkError extends VectorcacheAPIError {}
/** An attempt did not complete within `timeout`. */
class VectorcacheTimeoutError extends VectorcacheNetworkError {}
/** The server's TLS certificate is not trusted; `ca` or NODE_EXTRA_CA_CERTS adds a CA. Never retried. */
class VectorcacheCertificateError extends VectorcacheNetworkError {}
/** A bad request (prompt, model, threshold, a field of the wrong type); nothing was sent. */
class VectorcacheInvalidRequestError extends VectorcacheError {}
/** No key (the message names VECTORCACHE_API_KEY), a malformed key, a bad base URL or option. */
class VectorcacheConfigurationError extends VectorcacheError {}

const CLASSES = Object.freeze({
  __proto__: null,
  VectorcacheError,
  VectorcacheAPIError,
  VectorcacheValidationError,
  VectorcacheAuthenticationError,
  VectorcachePermissionError,
  VectorcacheNotFoundError,
  VectorcacheRateLimitError,
  VectorcacheServerError,
  VectorcacheResponseValidationError,
  VectorcacheNetworkError,
  VectorcacheTimeoutError,
  VectorcacheCertificateError,
  VectorcacheInvalidRequestError,
  VectorcacheConfigurationError,
})

/** Builds the typed error from the native layer's structured error. */
function fromNative(native) {
  // An unknown name means an addon newer than this file: still a catchable VectorcacheError.
  const ErrorClass = CLASSES[native.errorClass] ?? VectorcacheError
  const cause = native.cause == null ? undefined : new Error(native.cause)
  // The server's names arrive as pairs and JSON text, not objects, so that a `__proto__` among
  // them stays an own property here (as JSON.parse keeps it) instead of setting a prototype.
  const headers = native.headers == null ? undefined : Object.fromEntries(native.headers)
  const data = native.dataJson == null ? undefined : JSON.parse(native.dataJson)
  return new ErrorClass(native.message, { ...native, cause, headers, data })
}

/** Something the native layer threw instead of returning (a bug, or napi itself failing). */
function fromUnexpected(cause) {
  if (cause instanceof VectorcacheError) return cause
  const message = cause instanceof Error ? cause.message : String(cause)
  return new VectorcacheError(`unexpected failure in the native client: ${message}`, {
    kind: 'internal',
    cause,
  })
}

module.exports = { classes: CLASSES, fromNative, fromUnexpected }
