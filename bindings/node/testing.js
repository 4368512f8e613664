'use strict'
// `require('vectorcache/testing')`: test your own code against a local Vectorcache, with nothing
// else installed. The emulator is the SDK's own server of the Vectorcache API (a semantic cache,
// the documented errors, fault injection, a request log), started inside this process.

const native = require('./loader.js').load()
const { VectorcacheClient } = require('./index.js')

class Emulator {
  #server

  constructor(server) {
    this.#server = server
  }

  /**
   * Starts an emulator on a free loopback port.
   * @param {{ apiKey?: string, port?: number }} [options] the key it accepts (a new one by
   *   default) and the port (0, a free one, by default)
   */
  static async start(options = {}) {
    const { apiKey, port, ...rest } = options
    const unknown = Object.keys(rest)
    if (unknown.length > 0) throw new TypeError(`unknown Emulator option \`${unknown[0]}\``)
    return new Emulator(await native.startEmulator(apiKey, port))
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

  /** Queues a fault for the next query: `{ status, body, headers, delay_ms, drop_connection, count }`. */
  addFault(fault) {
    return this.#call('POST', '/_emulator/faults', [fault])
  }

  /** The queries it received, oldest first (`Authorization` redacted). */
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
      await server.stop()
    }
  }

  #running() {
    if (!this.#server) throw new Error('the emulator is closed')
    return this.#server
  }

  async #call(method, route, payload) {
    const answer = await fetch(this.baseUrl + route, {
      method,
      headers: { 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    })
    const text = await answer.text()
    if (!answer.ok) throw new Error(`${method} ${route}: ${answer.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
}

module.exports = { Emulator }
