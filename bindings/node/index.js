'use strict'
// The public API of the npm package `vectorcache`: a thin wrapper over the napi-rs addon
// (loaded by loader.js) that adds only what JavaScript idiom needs: error classes that work
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

/** The native promise's outcome; a rejection (a bug in the addon) becomes a VectorcacheError. */
async function settled(pending) {
  try {
    return await pending
  } catch (cause) {
    throw fromUnexpected(cause)
  }
}

/** Waits for the outcome, or rejects the moment `signal` aborts (and cancels the native task). */
function untilAborted(pending, signal, cancel) {
  return new Promise((resolve, reject) => {
    const stop = whenAborted(signal, () => {
      cancel.cancel()
      reject(abortError(signal))
    })
    settled(pending).then(
      (outcome) => {
        stop()
        resolve(outcome)
      },
      (error) => {
        stop()
        reject(error)
      },
    )
  })
}

// The queries waiting on each signal. One signal is often shared by many queries (a request's
// or a shutdown's); one 'abort' listener each would make Node warn of a listener leak
// (MaxListenersExceededWarning) from the eleventh on, so a signal gets one listener in all.
const waitingOn = new WeakMap()

/** Calls `onAbort` when `signal` aborts, unless the returned function was called first. */
function whenAborted(signal, onAbort) {
  let waiting = waitingOn.get(signal)
  if (waiting === undefined) {
    waiting = new Set()
    waitingOn.set(signal, waiting)
    signal.addEventListener(
      'abort',
      () => {
        waitingOn.delete(signal)
        for (const callback of waiting) callback()
      },
      { once: true },
    )
  }
  waiting.add(onAbort)
  return () => waiting.delete(onAbort)
}

/** What `fetch` rejects with when its signal aborts: a DOMException named 'AbortError'. */
function abortError(signal) {
  const error = new DOMException('The Vectorcache query was aborted', 'AbortError')
  if (signal.reason !== undefined) Object.defineProperty(error, 'cause', { value: signal.reason })
  return error
}

function isAbortSignal(value) {
  return typeof AbortSignal !== 'undefined' && value instanceof AbortSignal
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error']

/** The `logger` option: an object with debug/info/warn/error methods (console works). */
function checkedLogger(logger) {
  if (logger === undefined || logger === null) return undefined
  const missing = LOG_LEVELS.find((level) => typeof logger?.[level] !== 'function')
  if (missing) {
    throw fromNative({
      kind: 'invalid_config',
      errorClass: 'VectorcacheConfigurationError',
      message: `invalid configuration: \`logger\` must have debug, info, warn and error methods (no \`${missing}\`)`,
    })
  }
  return logger
}

/** Whether the process was told of a VECTORCACHE_LOG value it does not know (once is enough). */
let unknownLogLevelTold = false

/**
 * VECTORCACHE_LOG=debug|info|warn|error: the core's events at that level and above, on stderr;
 * unset, empty or `off`: none. Any other value is said once on stderr (as `OPENAI_LOG` does),
 * rather than switching logging off without a word. The core's events are debug (answers) and
 * info (retries): at warn or error none would print, so the client keeps none (no logger).
 */
function loggerFromEnv() {
  const value = String(process.env.VECTORCACHE_LOG ?? '').trim().toLowerCase()
  const threshold = LOG_LEVELS.indexOf(value)
  if (threshold < 0) {
    if (value !== '' && value !== 'off' && !unknownLogLevelTold) {
      unknownLogLevelTold = true
      process.stderr.write(
        `[vectorcache] warn: VECTORCACHE_LOG=${JSON.stringify(process.env.VECTORCACHE_LOG)} is not one of ${LOG_LEVELS.join(', ')} or off: nothing is logged\n`,
      )
    }
    return undefined
  }
  if (threshold > LOG_LEVELS.indexOf('info')) return undefined
  const logger = {}
  for (const [rank, level] of LOG_LEVELS.entries()) {
    logger[level] = rank < threshold ? () => {} : (message) => process.stderr.write(`[vectorcache] ${level}: ${message}\n`)
  }
  return logger
}

/** A local invalid-request error in the native layer's shape. */
function invalidRequest(message) {
  return { kind: 'invalid_request', errorClass: 'VectorcacheInvalidRequestError', message: `invalid request: ${message}` }
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
  // Where the core's answers and retries go: the `logger` option, or stderr per
  // VECTORCACHE_LOG, or nowhere.
  #logger

  constructor(config) {
    let options = config
    let logger
    if (config !== null && typeof config === 'object' && 'logger' in config) {
      ;({ logger, ...options } = config)
    }
    // `logger: undefined` or `null` is "not given", like every other option: VECTORCACHE_LOG applies.
    this.#logger = checkedLogger(logger) ?? loggerFromEnv()
    const outcome = callNative(() => native.createClient(options, this.#logger !== undefined))
    if (outcome.error) throw fromNative(outcome.error)
    this.#native = outcome.client
  }

  /** Hands a call's events (its outcome's, when there is a logger) to the logger. */
  #log(events) {
    if (this.#logger === undefined || events === undefined) return
    for (const { level, message } of events) {
      try {
        this.#logger[level](message)
      } catch {
        // A failing logger must not fail the query.
      }
    }
  }

  /**
   * Looks a prompt up in the cache: the documented snake_case result, or a typed rejection.
   * `options` (all optional): `timeout`, `maxRetries`, `totalTimeout` (ms), `headers`,
   * `projectId` for this call only, and `signal`, an AbortSignal that cancels it.
   */
  async query(request, options) {
    // The common call has no options, or no signal: pass them on untouched (no copy).
    let settings = options
    let signal
    // `signal: null` is "not given", as `undefined` and `null` are for every option.
    if (options != null && options.signal != null) {
      ;({ signal, ...settings } = options)
      if (!isAbortSignal(signal)) throw fromNative(this.#native.refuse('`signal` must be an AbortSignal'))
      // An aborted signal sends nothing.
      if (signal.aborted) throw abortError(signal)
    }
    const cancel = signal ? new native.CancelToken() : undefined
    let outcome
    let pending
    try {
      pending = this.#native.query(request, settings, cancel)
      outcome = signal ? await untilAborted(pending, signal, cancel) : await pending
    } catch (cause) {
      if (signal && cause?.name === 'AbortError') {
        // The call's events so far come with its native outcome, once the task has stopped.
        pending.then((late) => this.#log(late?.events), () => {})
        throw cause
      }
      throw fromUnexpected(cause)
    }
    this.#log(outcome.events)
    if (outcome.error) throw fromNative(outcome.error)
    // The answer's metadata (rateLimit, requestId) is on it already, non-enumerable.
    return outcome.result
  }

  /**
   * Looks every request up, at most `concurrency` (default 16) at once, in one native call;
   * a request may hold its own `timeout`, `maxRetries`, `totalTimeout` and `headers`.
   * Resolves to an array in input order of `{ result }` or `{ error }` (one failure never
   * fails the batch); `signal` aborts the whole batch like `query`.
   */
  async queryMany(requests, options) {
    // The options (`concurrency`, unknown keys) are read natively; the signal is JavaScript's.
    const signal = options?.signal ?? undefined
    if (signal !== undefined && !isAbortSignal(signal)) {
      // A batch refused whole counts nothing, as the core's own refusals of one do.
      throw fromNative(invalidRequest('`signal` must be an AbortSignal'))
    }
    if (signal?.aborted) throw abortError(signal)
    const cancel = signal ? new native.CancelToken() : undefined
    let pending
    try {
      pending = this.#native.queryMany(requests, options, cancel)
    } catch (cause) {
      throw fromUnexpected(cause)
    }
    let batch
    try {
      batch = signal ? await untilAborted(pending, signal, cancel) : await settled(pending)
    } catch (cause) {
      // An aborted batch's events so far come with its native outcome, as for `query`.
      if (cause?.name === 'AbortError') pending.then((late) => this.#log(late?.events), () => {})
      throw cause
    }
    this.#log(batch.events)
    if (batch.error) throw fromNative(batch.error)
    // Each item is `{ result }` or `{ error }` already; the errors become their classes.
    const { outcomes } = batch
    for (const outcome of outcomes) {
      if (outcome.error) outcome.error = fromNative(outcome.error)
    }
    return outcomes
  }

  /**
   * A snapshot of this client's usage: `{ queries, hits, misses, hitRate, costSaved, errors,
   * retries, latencyMs: { p50, p95, p99 } }`.
   */
  stats() {
    return callNative(() => this.#native.stats())
  }

  /** Starts the statistics afresh. */
  resetStats() {
    callNative(() => this.#native.resetStats())
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
  ...errors.classes,
  VERSION: native.VERSION,
}
// The earlier npm package's default export: `require('vectorcache').default` and
// `import VectorcacheClient from 'vectorcache'`.
module.exports.default = VectorcacheClient
// Marks the exports as a compiled ES module's, so TypeScript's `esModuleInterop` (and bundlers)
// take `.default` for a default import, as index.d.ts declares it, instead of the whole object.
// Non-enumerable: not a key of `require('vectorcache')`.
Object.defineProperty(module.exports, '__esModule', { value: true })
