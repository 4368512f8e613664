// The real emulator binary on a free port, its /_emulator admin routes, and client factories.
// Each test file starts its own emulator (node --test runs files in separate processes).
//
// Paths: VECTORCACHE_REPO (set by run.sh, which runs a copy of this suite from a temp project)
// else the repository this file sits in; VECTORCACHE_EMULATOR_BIN overrides the binary.

import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { VectorcacheClient } from 'vectorcache'

const here = path.dirname(fileURLToPath(import.meta.url))
export const REPO = process.env.VECTORCACHE_REPO ?? path.resolve(here, '../../..')
export const ERROR_CASES = JSON.parse(
  readFileSync(path.join(REPO, 'tests/fixtures/error_cases.json'), 'utf8'),
)
export const API_KEY = ERROR_CASES.api_key
/** Well-formed, but not a key the emulator accepts. */
export const OTHER_KEY = 'vc_ffffffffffffffffffffffffffffffff'
const STARTUP_TIMEOUT_MS = 30_000

export class Emulator {
  constructor(child, url) {
    this.child = child
    this.url = url
  }

  async #call(method, route, payload) {
    const answer = await fetch(this.url + route, {
      method,
      headers: { 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    })
    if (!answer.ok) throw new Error(`${method} ${route}: ${answer.status} ${await answer.text()}`)
    const text = await answer.text()
    return text ? JSON.parse(text) : null
  }

  /** Clears the cache, the fault queue and the request log. */
  reset() {
    return this.#call('POST', '/_emulator/reset', {})
  }

  /** Queues faults, consumed one per /v1/cache/query request. */
  fault(...faults) {
    return this.#call('POST', '/_emulator/faults', faults)
  }

  /** The log of /v1/cache/query requests, oldest first (a request is logged when it is
   * answered: one whose client gave up before the answer is not there). */
  async requests() {
    const log = await this.#call('GET', '/_emulator/requests')
    if (!Array.isArray(log)) throw new Error(`GET /_emulator/requests: not a list: ${JSON.stringify(log)}`)
    return log
  }

  /** How many more /v1/cache/query requests the queued faults will affect: each request that
   * reaches the emulator takes one, answered or not (so it counts timed-out attempts too). */
  async pendingFaults() {
    const { pending } = await this.#call('GET', '/_emulator/faults')
    if (!Number.isInteger(pending)) throw new Error(`GET /_emulator/faults: no pending count`)
    return pending
  }

  /** A client of this emulator with the fixture key and no retries, unless overridden. */
  client(overrides = {}) {
    return new VectorcacheClient({ apiKey: API_KEY, baseUrl: this.url, maxRetries: 0, ...overrides })
  }

  /** Environment for a child process (a doc snippet, an example) talking to this emulator. */
  env(extra = {}) {
    return { ...process.env, VECTORCACHE_API_KEY: API_KEY, VECTORCACHE_BASE_URL: this.url, ...extra }
  }

  async stop() {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await exited
  }
}

export function emulatorBinary() {
  const binary = process.env.VECTORCACHE_EMULATOR_BIN ?? path.join(REPO, 'target/debug/vectorcache')
  if (!existsSync(binary)) {
    throw new Error(`emulator binary ${binary} not found: run \`cargo build -p vectorcache-cli\``)
  }
  return binary
}

/** Starts `vectorcache emulator --port 0` and waits for its `listening on http://…` line. */
export async function startEmulator() {
  const env = { ...process.env, VECTORCACHE_API_KEY: API_KEY }
  delete env.VECTORCACHE_BASE_URL
  const child = spawn(emulatorBinary(), ['emulator', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const lines = createInterface({ input: child.stdout })
  const seen = []
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`emulator printed no URL in ${STARTUP_TIMEOUT_MS} ms: ${seen}`)),
        STARTUP_TIMEOUT_MS,
      )
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before listening: ${seen}`)))
      lines.on('line', (line) => {
        seen.push(line)
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
    })
    // Keep draining stdout so the emulator never blocks on a full pipe.
    child.stdout.resume()
    return new Emulator(child, url)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** The project the suite runs from (run.sh: the temp project with the installed package). */
export const PROJECT = process.env.VECTORCACHE_TEST_PROJECT ?? process.cwd()
