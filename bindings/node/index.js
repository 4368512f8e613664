'use strict'
// The public API of the npm package `vectorcache`: a thin wrapper over the napi-rs addon
// (native.js, generated) that adds only what JavaScript idiom needs: error classes that work
// with `instanceof`, a key-free `util.inspect`/`JSON.stringify`, and the result metadata as
// non-enumerable properties. Configuration, validation, retries and error decoding are the
// Rust core's.

const { inspect } = require('node:util')
const native = require('./loader.js').load()
const errors = require('./errors.js')

const { fromNative, fromUnexpected } = errors

/** Calls into the addon; anything it throws (it should not) still becomes a VectorcacheError. */
function callNative(fn) {
  try {
    return fn()
  } catch (cause) {
    throw fromUnexpected(cause)
  }
}

class VectorcacheClient {
  // The native client holds the key in Rust memory; nothing on this object carries it.
  #native

  /**
   * @param {import('./index').VectorcacheConfig} [config] apiKey (default
   *   VECTORCACHE_API_KEY), baseUrl (default VECTORCACHE_BASE_URL or
   *   https://api.vectorcache.ai), timeout in ms (default 30000), maxRetries (default 2),
   *   projectId.
   */
  constructor(config) {
    const outcome = callNative(() => native.createClient(config))
    if (outcome.error) throw fromNative(outcome.error)
    this.#native = outcome.client
  }

  /** Looks a prompt up in the cache: the documented snake_case result, or a typed rejection. */
  async query(request) {
    let outcome
    try {
      outcome = await this.#native.query(request)
    } catch (cause) {
      throw fromUnexpected(cause)
    }
    if (outcome.error) throw fromNative(outcome.error)
    // Extra data stays out of JSON.stringify, deepEqual and spreads of the documented shape.
    return Object.defineProperties(outcome.result, {
      rateLimit: { value: outcome.rateLimit, enumerable: false },
      requestId: { value: outcome.requestId, enumerable: false },
    })
  }

  /** Rotates the key; requests in flight finish with the old one. */
  setApiKey(apiKey) {
    const error = callNative(() => this.#native.setApiKey(apiKey))
    if (error) throw fromNative(error)
  }

  get baseUrl() {
    return this.#native.baseUrl
  }

  /** The per-attempt timeout in milliseconds. */
  get timeout() {
    return this.#native.timeout
  }

  get maxRetries() {
    return this.#native.maxRetries
  }

  get projectId() {
    return this.#native.projectId ?? undefined
  }

  /** The configuration with the key redacted (`vc_1234…`): what JSON.stringify shows. */
  toJSON() {
    return {
      apiKey: this.#native.redactedApiKey,
      baseUrl: this.baseUrl,
      timeout: this.timeout,
      maxRetries: this.maxRetries,
      projectId: this.projectId,
    }
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `VectorcacheClient ${inspectFn(this.toJSON(), options)}`
  }
}

module.exports = {
  VectorcacheClient,
  VectorcacheError: errors.VectorcacheError,
  VectorcacheAPIError: errors.VectorcacheAPIError,
  VectorcacheValidationError: errors.VectorcacheValidationError,
  VectorcacheConfigurationError: errors.VectorcacheConfigurationError,
  VectorcacheAuthenticationError: errors.VectorcacheAuthenticationError,
  VectorcachePermissionError: errors.VectorcachePermissionError,
  VectorcacheNotFoundError: errors.VectorcacheNotFoundError,
  VectorcacheRateLimitError: errors.VectorcacheRateLimitError,
  VectorcacheServerError: errors.VectorcacheServerError,
  VectorcacheResponseValidationError: errors.VectorcacheResponseValidationError,
  VectorcacheNetworkError: errors.VectorcacheNetworkError,
  VectorcacheTimeoutError: errors.VectorcacheTimeoutError,
  VERSION: native.VERSION,
}
