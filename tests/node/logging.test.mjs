// The core's events reach the `logger` option, or stderr with VECTORCACHE_LOG, never with the key.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { VectorcacheConfigurationError } from 'vectorcache'

import { runNode } from './helpers/child.mjs'
import { API_KEY, PROJECT } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

function recorder() {
  const lines = []
  const logger = {}
  for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (message) => lines.push([level, message])
  return { logger, lines }
}

test('answers and retries reach the logger option', async () => {
  const { emulator } = env
  await emulator.fault({ status: 503, body: { detail: 'busy' }, headers: { 'Retry-After': '0' }, count: 2 })
  const { logger, lines } = recorder()
  await emulator.client({ maxRetries: 2, logger }).query({ prompt: 'p', model: 'gpt-4o' })
  assert.deepEqual(lines.map(([level]) => level), ['debug', 'info', 'debug', 'info', 'debug'])
  assert.match(lines[0][1], /^Vectorcache answered 503 in [\d.]+ ms \(attempt 1, request req_/)
  assert.match(lines[1][1], /^retrying the Vectorcache query in 0 ms \(retry 1 of 2\) after: 503/)
  assert.match(lines[4][1], /^Vectorcache answered 200/)
  assert.ok(lines.every(([, message]) => !message.includes(API_KEY.slice(8))))
  const batch = recorder()
  await emulator.client({ logger: batch.logger }).queryMany([{ prompt: 'a', model: 'gpt-4o' }, { prompt: 'b', model: 'gpt-4o' }])
  assert.deepEqual(batch.lines.map(([level]) => level), ['debug', 'debug'])
  for (const [, message] of batch.lines) assert.match(message, /^Vectorcache answered 200 in [\d.]+ ms \(attempt 1, request req_/)
  // What the emulator saw: the three attempts of the query, then the batch's two.
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [503, 503, 200, 200, 200])
})

test('a logger without the four methods is a configuration error', () => {
  const { emulator } = env
  const refused = (message) => (e) => e instanceof VectorcacheConfigurationError && e.kind === 'invalid_config' && message.test(e.message)
  assert.throws(() => emulator.client({ logger: { debug() {} } }), refused(/`logger` must have debug, info, warn and error methods \(no `info`\)/))
  assert.throws(() => emulator.client({ logger: 'stderr' }), refused(/`logger` must have debug, info, warn and error methods \(no `debug`\)/))
  // null or undefined: no logger.
  assert.equal(emulator.client({ logger: undefined }).maxRetries, 0)
  assert.equal(emulator.client({ logger: null }).maxRetries, 0)
})

test('VECTORCACHE_LOG prints to stderr at its level', async () => {
  const { emulator } = env
  const script = path.join(PROJECT, 'log-env.mjs')
  writeFileSync(
    script,
    `import { VectorcacheClient } from 'vectorcache'
const client = new VectorcacheClient({ maxRetries: 1 })
await client.query({ prompt: 'p', model: 'gpt-4o' })`,
  )
  const run = (level) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [script], { cwd: PROJECT, env: emulator.env({ VECTORCACHE_LOG: level }) })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.on('exit', (code) => resolve({ code, stderr }))
    })
  await emulator.fault({ status: 429, body: { detail: 'slow' }, headers: { 'Retry-After': '0' } })
  const debug = await run('debug')
  assert.equal(debug.code, 0, debug.stderr)
  const lines = debug.stderr.trim().split('\n')
  assert.equal(lines.length, 3, debug.stderr)
  assert.match(lines[0], /^\[vectorcache\] debug: Vectorcache answered 429/)
  assert.match(lines[1], /^\[vectorcache\] info: retrying the Vectorcache query/)
  assert.ok(!debug.stderr.includes(API_KEY.slice(8)))
  await emulator.fault({ status: 429, body: { detail: 'slow' }, headers: { 'Retry-After': '0' } })
  const info = await run('info')
  assert.equal(info.code, 0, info.stderr)
  // Exactly the retry line (an empty stderr would also "split" into one line).
  assert.match(info.stderr, /^\[vectorcache\] info: retrying the Vectorcache query in 0 ms \(retry 1 of 1\) after: 429 Too Many Requests: slow[^\n]*\n$/)
  // Unset: the same retry happens, and nothing is printed.
  await emulator.fault({ status: 429, body: { detail: 'slow' }, headers: { 'Retry-After': '0' } })
  const quiet = await run('')
  assert.equal(quiet.code, 0, quiet.stderr)
  assert.equal(quiet.stderr, '')
  // A level it does not know (`trace`) is said once, not silently taken as off.
  await emulator.fault({ status: 429, body: { detail: 'slow' }, headers: { 'Retry-After': '0' } })
  const unknown = await run('trace')
  assert.equal(unknown.code, 0, unknown.stderr)
  assert.equal(unknown.stderr, '[vectorcache] warn: VECTORCACHE_LOG="trace" is not one of debug, info, warn, error or off: nothing is logged\n')
  const off = await run('off')
  assert.equal(off.stderr, '')
  // warn: no event of the core's is that important (answers are debug, retries info).
  await emulator.fault({ status: 429, body: { detail: 'slow' }, headers: { 'Retry-After': '0' } })
  const warn = await run('warn')
  assert.equal(warn.code, 0, warn.stderr)
  assert.equal(warn.stderr, '')
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [429, 200, 429, 200, 429, 200, 429, 200, 200, 429, 200])
})

test('logger: undefined or null is "not given": VECTORCACHE_LOG still prints', async () => {
  const { emulator } = env
  const script = path.join(PROJECT, 'log-env-no-logger.mjs')
  writeFileSync(
    script,
    `import { VectorcacheClient } from 'vectorcache'
const logger = process.argv[2] === 'null' ? null : undefined
await new VectorcacheClient({ logger }).query({ prompt: 'p', model: 'gpt-4o' })`,
  )
  for (const given of ['undefined', 'null']) {
    const { code, stderr } = await runNode([script, given], { env: emulator.env({ VECTORCACHE_LOG: 'debug' }) })
    assert.equal(code, 0, stderr)
    // Exactly the answer's line, as without the option.
    assert.match(stderr, /^\[vectorcache\] debug: Vectorcache answered 200 in [\d.]+ ms \(attempt 1, request req_[^\n]*\n$/, `logger: ${given}`)
  }
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [200, 200])
})

// Each call's events are logged as that call settles, in its caller's async context (what
// request-scoped loggers read through AsyncLocalStorage), not with whichever call settles
// next; an aborted call's events so far are logged once its task has stopped.
test("each call's events are logged in its own async context, an aborted call's too", async () => {
  const { AsyncLocalStorage } = await import('node:async_hooks')
  const { emulator } = env
  const als = new AsyncLocalStorage()
  const lines = []
  const logger = {}
  for (const level of ['debug', 'info', 'warn', 'error']) {
    logger[level] = (message) => lines.push(`${als.getStore()}: ${message.split(' in ')[0]}`)
  }
  const client = emulator.client({ maxRetries: 1, logger })
  const ask = (name, options) => als.run(name, () => client.query({ prompt: name, model: 'gpt-4o' }, options))
  const statuses = async () => (await emulator.requests()).map((r) => r.status)
  const until = async (condition) => {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10))
  }

  // A's first attempt gets a 503 asking for a 1 s wait; B and C are answered meanwhile.
  await emulator.fault({ status: 503, body: { detail: 'busy' }, headers: { 'Retry-After': '1' } })
  const a = ask('a')
  await until(async () => (await statuses()).length === 1)
  await ask('b')
  await ask('c')
  await a
  assert.deepEqual(lines, [
    'b: Vectorcache answered 200',
    'c: Vectorcache answered 200',
    'a: Vectorcache answered 503',
    'a: retrying the Vectorcache query',
    'a: Vectorcache answered 200',
  ])

  // D is aborted while it waits to retry: its 503 and retry are logged as D's, not E's.
  lines.length = 0
  await emulator.fault({ status: 503, body: { detail: 'busy' }, headers: { 'Retry-After': '5' } })
  const controller = new AbortController()
  const d = ask('d', { signal: controller.signal })
  await until(async () => (await statuses()).length === 5)
  await new Promise((resolve) => setTimeout(resolve, 200)) // the retry is decided
  controller.abort()
  await assert.rejects(d, { name: 'AbortError' })
  await until(async () => lines.length === 2)
  await ask('e')
  assert.deepEqual(lines, [
    'd: Vectorcache answered 503',
    'd: retrying the Vectorcache query',
    'e: Vectorcache answered 200',
  ])
})
