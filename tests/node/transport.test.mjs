// Timeouts and broken connections: typed errors without a status.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'node:test'

import {
  VectorcacheAPIError,
  VectorcacheError,
  VectorcacheNetworkError,
  VectorcacheTimeoutError,
} from 'vectorcache'

import { API_KEY, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

test('a slow answer beyond the timeout is a VectorcacheTimeoutError', async () => {
  const { emulator } = env
  await emulator.fault({ delay_ms: 2000 })
  const started = Date.now()
  const error = await rejection(emulator.client({ timeout: 300 }).query({ prompt: 'p', model: 'gpt-4o' }))
  const elapsed = Date.now() - started
  assert.ok(error instanceof VectorcacheTimeoutError)
  assert.ok(error instanceof VectorcacheNetworkError)
  assert.ok(error instanceof VectorcacheError)
  // The network was involved: transport failures are API errors, as in openai-python.
  assert.ok(error instanceof VectorcacheAPIError)
  assert.equal(error.kind, 'timeout')
  assert.equal(error.statusCode, undefined)
  assert.equal(error.response, undefined)
  assert.deepEqual(error.headers, {})
  assert.equal(error.attempts, 1)
  assert.ok(elapsed >= 250 && elapsed < 1500, `timed out after ${elapsed} ms`)
})

test('a delay within the timeout is just a slow answer', async () => {
  const { emulator } = env
  await emulator.fault({ delay_ms: 200 })
  const started = Date.now()
  const result = await emulator.client({ timeout: 5000 }).query({ prompt: 'p', model: 'gpt-4o' })
  const elapsed = Date.now() - started
  assert.equal(result.cache_hit, false)
  // One attempt, which took the delay and was answered.
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.fault]), [[200, true]])
  assert.ok(elapsed >= 190 && elapsed < 4000, `${elapsed} ms`)
})

test('timeouts are retried: attempts counts them', async () => {
  const { emulator } = env
  // Three slow answers queued; a timed-out attempt is not in the request log (the emulator
  // logs a request when it answers), but it took one of the faults.
  await emulator.fault({ delay_ms: 1000, count: 3 })
  const error = await rejection(
    emulator.client({ timeout: 200, maxRetries: 1 }).query({ prompt: 'p', model: 'gpt-4o' }),
  )
  assert.ok(error instanceof VectorcacheTimeoutError)
  assert.equal(error.attempts, 2)
  assert.match(error.message, /timed out after 2 attempt\(s\)/)
  assert.equal(await emulator.pendingFaults(), 1, 'exactly two attempts reached the emulator')
})

test('a dropped connection is a VectorcacheNetworkError', async () => {
  const { emulator } = env
  await emulator.fault({ drop_connection: true })
  // A pool of its own (other settings): on a connection that an earlier client kept alive,
  // a drop before any answer would look stale and be retried once for free.
  const error = await rejection(emulator.client({ maxConnections: 99 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheNetworkError)
  assert.ok(!(error instanceof VectorcacheTimeoutError))
  assert.equal(error.kind, 'connection')
  assert.equal(error.statusCode, undefined)
  assert.equal(error.attempts, 1)
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.fault]), [[null, true]])
})

test('a dropped connection is retried and then succeeds', async () => {
  const { emulator } = env
  await emulator.fault({ drop_connection: true })
  const result = await emulator.client({ maxRetries: 1 }).query({ prompt: 'p', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  // The dropped attempt, then the retry that was answered.
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.fault]), [[null, true], [200, false]])
})

test('nothing listening is a VectorcacheNetworkError', async () => {
  // Take a free port, then close it so the connection is refused.
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
  const { VectorcacheClient } = await import('vectorcache')
  const client = new VectorcacheClient({ apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 })
  const error = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheNetworkError)
  assert.ok(!(error instanceof VectorcacheTimeoutError))
  assert.equal(error.kind, 'connection')
  assert.equal(error.attempts, 1)
  assert.equal(error.statusCode, undefined)
  assert.match(error.message, /^connection error after 1 attempt\(s\): ./)
  assert.ok(!error.message.includes(API_KEY))
})

test('a connect that runs out names the connect timeout, not the per-attempt one', async () => {
  // A listener that never accepts, its queue full, so connecting hangs as it does when a
  // firewall drops the packets. Node's own servers always accept: Python holds this one.
  const holder = spawn('python3', ['-c', [
    'import socket, sys',
    'listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(0)',
    'queued = socket.create_connection(listener.getsockname())',
    'print(listener.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    const [port] = await once(holder.stdout, 'data')
    const { VectorcacheClient } = await import('vectorcache')
    const client = new VectorcacheClient({
      apiKey: API_KEY, baseUrl: `http://127.0.0.1:${Number(port)}`, connectTimeout: 300, timeout: 30000, maxRetries: 0,
    })
    const started = Date.now()
    const error = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
    const elapsed = Date.now() - started
    assert.ok(error instanceof VectorcacheTimeoutError, error.name)
    assert.equal(error.kind, 'timeout')
    assert.equal(error.attempts, 1)
    assert.equal(error.message, 'request timed out after 1 attempt(s): connecting to the server took longer than '
      + 'the connect timeout of 300ms (is a firewall dropping the packets, or the host down?)')
    assert.ok(elapsed >= 250 && elapsed < 5000, `timed out after ${elapsed} ms`)
    // Refused like the other durations, in JavaScript's spelling.
    for (const connectTimeout of [0, -1]) {
      assert.throws(() => new VectorcacheClient({ apiKey: API_KEY, connectTimeout }), /`connectTimeout`/)
    }
  } finally {
    holder.kill()
  }
})

test('clients with the same settings share their connections: one made per query opens none', async () => {
  const { emulator } = env
  const keeper = emulator.client()
  await keeper.query({ prompt: 'first', model: 'gpt-4o' })
  for (let i = 0; i < 20; i++) {
    await emulator.client({ timeout: 5000 + i }).query({ prompt: `question ${i}`, model: 'gpt-4o' })
  }
  await emulator.client({ maxConnections: 7 }).query({ prompt: 'last', model: 'gpt-4o' })
  const connections = (await emulator.requests()).map((r) => r.connection)
  assert.equal(connections.length, 22)
  // The request timeout is not the pool's; maxConnections is.
  assert.deepEqual(new Set(connections.slice(0, 21)).size, 1, `${connections}`)
  assert.ok(!connections.slice(0, 21).includes(connections[21]), `${connections}`)
  await keeper.query({ prompt: 'first', model: 'gpt-4o' })
})
