'use strict'
// `require('vectorcache/testing')`: test your own code against a local Vectorcache, with nothing
// else installed. The emulator is the SDK's own server of the Vectorcache API (a semantic cache,
// the documented errors, fault injection, a request log), started inside this process.

const native = require('./loader.js').load()
const { VectorcacheClient } = require('./index.js')

// Every emulator started and not closed. An emulator runs until `close()`, as an
// `http.Server` does: one the program no longer references must not stop when the garbage
// collector finalizes its native server (a client given its URL still uses it).
const started = new Set()

class Emulator {
  #server

  constructor(server) {
    this.#server = server
  }

  /**
   * Starts an emulator on a free loopback port.
   * @param {{ apiKey?: string, port?: number, rateLimit?: boolean | { perMinute: number, burst?: number } }} [options]
   *   the key it accepts (a new one by default), the port (0, a free one, by default), and its
   *   rate limit: like the service it limits each key and sends `X-RateLimit-*` on every
   *   authenticated answer; `true` (the default) is a generous 100,000 per minute,
   *   `{ perMinute: 2, burst: 2 }` sets your own (to test 429 handling), `false` switches it off
   */
  static async start(options) {
    try {
      const emulator = new Emulator(await native.startEmulator(options))
      started.add(emulator)
      return emulator
    } catch (error) {
      // A bad option (the native side names it) is a TypeError, as in Node's own APIs.
      if (error?.code === 'InvalidArg') throw new TypeError(error.message)
      throw error
    }
  }

  /** The URL to give the client, e.g. `http://127.0.0.1:40123`. */
  get baseUrl() {
    return this.#running().url
  }

  /** The key the emulator accepts. */
  get apiKey() {
    return this.#running().apiKey
  }

  /** A client of this emulator; `options` as for `new VectorcacheClient`. */
  client(options = {}) {
    return new VectorcacheClient({ apiKey: this.apiKey, baseUrl: this.baseUrl, ...options })
  }

  /**
   * Queues a fault for the next query: `{ status, body, headers, delayMs, dropConnection, count }`
   * (the emulator's own `delay_ms` and `drop_connection` work too). Resolves to
   * `{ queued: 1, pending }`, `pending` the queries the queue will affect. A fault the emulator
   * cannot make rejects with a `TypeError` that says why.
   */
  async addFault(fault) {
    const server = this.#running()
    const json = faultJson(wireFault(fault))
    try {
      return { queued: 1, pending: server.addFault(json) }
    } catch (error) {
      // The emulator refusing the fault: a bad argument, as Node's own APIs say it.
      if (error?.code === 'InvalidArg') throw new TypeError(error.message)
      throw error
    }
  }

  /** The queries it received, oldest first (the last 1,000; `Authorization` redacted). */
  async requests() {
    return JSON.parse(this.#running().requests())
  }

  /** Forgets the cache, the queued faults, the request log and the rate-limit buckets (full again). */
  async reset() {
    this.#running().reset()
  }

  /** Stops the server (idempotent). */
  async close() {
    if (this.#server) {
      const server = this.#server
      this.#server = undefined
      started.delete(this)
      await server.stop()
    }
  }

  #running() {
    if (!this.#server) throw new Error('the emulator is closed')
    return this.#server
  }
}

const REFUSED = 'the emulator refused the fault: '

/** The fault as JSON, or a `TypeError` saying why it has none (as Python's package words it). */
function faultJson(fault) {
  try {
    return JSON.stringify(fault, finiteNumbers) ?? 'null'
  } catch (error) {
    if (!(error instanceof TypeError) || error.message.startsWith(REFUSED)) throw error
    const why = /circular/i.test(error.message)
      ? 'it contains itself (a circular reference)'
      : `it cannot be written as JSON (${error.message})`
    throw new TypeError(REFUSED + why)
  }
}

/**
 * A `JSON.stringify` replacer refusing NaN and the infinities, which it would write as `null`
 * (a `count: NaN` queued once, a `delayMs: Infinity` no delay), as Python's package refuses them.
 */
function finiteNumbers(_name, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`${REFUSED}it holds a number JSON cannot carry (NaN or an infinity)`)
  }
  return value
}

// The emulator's field names for the camelCase ones this package speaks.
const WIRE_NAMES = { delayMs: 'delay_ms', dropConnection: 'drop_connection' }

/** `fault` with the emulator's field names (anything else is the emulator's to refuse). */
function wireFault(fault) {
  if (fault === null || typeof fault !== 'object' || Array.isArray(fault)) return fault
  const wire = {}
  for (const [name, value] of Object.entries(fault)) wire[WIRE_NAMES[name] ?? name] = value
  for (const [camel, snake] of Object.entries(WIRE_NAMES)) {
    if (Object.hasOwn(fault, camel) && Object.hasOwn(fault, snake)) {
      throw new TypeError(`give \`${camel}\` or \`${snake}\`, not both (they are the same setting)`)
    }
  }
  return wire
}

module.exports = { Emulator }
