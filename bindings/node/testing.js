'use strict'
// `require('vectorcache/testing')`: test your own code against a local Vectorcache, with nothing
// else installed. The emulator is the SDK's own server of the Vectorcache API (a semantic cache,
// the documented errors, fault injection, a request log), started inside this process.

const http = require('node:http')

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
   * (the emulator's own `delay_ms` and `drop_connection` work too). A fault the emulator cannot
   * make rejects with a `TypeError` that says why.
   */
  async addFault(fault) {
    const wire = wireFault(fault)
    try {
      return await this.#call('POST', '/_emulator/faults', [wire])
    } catch (error) {
      // A 400 is the emulator refusing the fault: a bad argument, as Node's own APIs say it.
      if (error.status === 400) throw new TypeError(`the emulator refused the fault: ${detailOf(error.body)}`)
      throw error
    }
  }

  /** The queries it received, oldest first (the last 1,000; `Authorization` redacted). */
  requests() {
    return this.#call('GET', '/_emulator/requests')
  }

  /** Forgets the cache, the queued faults and the request log. */
  reset() {
    return this.#call('POST', '/_emulator/reset', {}).then(() => undefined)
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

  async #call(method, route, payload) {
    const { status, text } = await exchange(method, this.baseUrl + route, payload === undefined ? undefined : JSON.stringify(payload))
    if (status < 200 || status > 299) {
      throw Object.assign(new Error(`${method} ${route}: ${status} ${text}`), { status, body: text })
    }
    return text ? JSON.parse(text) : null
  }
}

/**
 * One request on a connection of its own, closed after it. Not `fetch`: Node's keeps a pool
 * for every origin it met, for good, and each emulator is a new origin (about 26 kB each,
 * so a suite of thousands of tests grew by tens of megabytes).
 */
function exchange(method, url, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => {
        text += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode, text }))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end(body)
  })
}

/** The `detail` of the emulator's error answer, or the answer as text. */
function detailOf(body) {
  try {
    return JSON.parse(body).detail ?? body
  } catch {
    return body
  }
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
