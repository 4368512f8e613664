// Usage statistics, batches and the earlier package's default export, against the emulator.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import VectorcacheClientDefault, {
  VectorcacheAuthenticationError,
  VectorcacheClient,
  VectorcacheInvalidRequestError,
  VectorcachePermissionError,
} from 'vectorcache'

import { PROJECT, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

test('stats count a known sequence exactly', async () => {
  const { emulator } = env
  const client = emulator.client({ maxRetries: 2 })
  await client.query({ prompt: 'What is machine learning?', model: 'gpt-4o' }) // miss
  const hit = await client.query({ prompt: 'What is machine learning?', model: 'gpt-4o' }) // hit
  await client.query({ prompt: 'What is machine learning?', model: 'gpt-4o' }) // hit
  await emulator.fault({ status: 503, body: { detail: 'busy' }, headers: { 'Retry-After': '0' }, count: 2 })
  await client.query({ prompt: 'What is deep learning?', model: 'gpt-4o' }) // 2 retries, a miss
  await emulator.fault({ status: 401, body: { detail: 'Invalid API key' } })
  assert.ok((await rejection(client.query({ prompt: 'x', model: 'gpt-4o' }))) instanceof VectorcacheAuthenticationError)
  assert.ok((await rejection(client.query({ prompt: ' ', model: 'gpt-4o' }))) instanceof VectorcacheInvalidRequestError)

  const stats = client.stats()
  assert.deepEqual(
    { queries: stats.queries, hits: stats.hits, misses: stats.misses, hitRate: stats.hitRate, retries: stats.retries },
    { queries: 6, hits: 2, misses: 2, hitRate: 0.5, retries: 2 },
  )
  assert.deepEqual(stats.errors, { authentication: 1, invalid_request: 1 })
  assert.ok(Math.abs(stats.costSaved - 2 * hit.cost_saved) < 1e-9, `${stats.costSaved}`)
  const { p50, p95, p99 } = stats.latencyMs
  assert.ok(p50 > 0 && p50 <= p95 && p95 <= p99)
  client.resetStats()
  assert.deepEqual(
    { ...client.stats(), latencyMs: undefined },
    { queries: 0, hits: 0, misses: 0, hitRate: 0, costSaved: 0, errors: {}, retries: 0, latencyMs: undefined },
  )
})

test('a batch keeps input order and each request\'s own error, in one call', async () => {
  const { emulator } = env
  // Cached beforehand, so item 2 is a hit whichever item the server sees first.
  await emulator.client().query({ prompt: 'What is AI?', model: 'gpt-4o' })
  const outcomes = await emulator.client().queryMany(
    [
      { prompt: 'What is ML?', model: 'gpt-4o' },
      { prompt: ' ', model: 'gpt-4o' },
      { prompt: 'What is AI?', model: 'gpt-4o', similarityThreshold: 0.9 },
      { prompt: 'p', model: 'gpt-4o', temprature: 1 },
      'not an object',
      { prompt: 'x', model: 'gpt-4o', projectId: 'proj_someone_else' },
    ],
    { concurrency: 2 },
  )
  assert.equal(outcomes.length, 6)
  assert.equal(outcomes[0].result.cache_hit, false)
  assert.ok(outcomes[1].error instanceof VectorcacheInvalidRequestError)
  assert.match(outcomes[1].error.message, /`prompt`/)
  assert.equal(outcomes[2].result.cache_hit, true)
  assert.ok(outcomes[3].error instanceof VectorcacheInvalidRequestError)
  assert.match(outcomes[3].error.message, /temprature/)
  assert.ok(outcomes[4].error instanceof VectorcacheInvalidRequestError)
  assert.match(outcomes[4].error.message, /must be an object/)
  assert.ok(outcomes[5].error instanceof VectorcachePermissionError)
  assert.equal(outcomes[5].error.statusCode, 403)
  // Each outcome has either a result or an error, not both.
  assert.deepEqual(outcomes.map((o) => ['result' in o, 'error' in o]), [
    [true, false], [false, true], [true, false], [false, true], [false, true], [false, true],
  ])
  // Only the three well-formed items were sent, each as itself; the result carries its request id.
  const sent = (await emulator.requests()).slice(1)
  assert.deepEqual(
    sent.map((r) => r.body).sort((a, b) => (a.prompt + (a.similarity_threshold ?? '') < b.prompt + (b.similarity_threshold ?? '') ? -1 : 1)),
    [
      { prompt: 'What is AI?', model: 'gpt-4o', similarity_threshold: 0.9 },
      { prompt: 'What is ML?', model: 'gpt-4o' },
      { prompt: 'x', model: 'gpt-4o', project_id: 'proj_someone_else' },
    ],
    'bad items are not sent',
  )
  assert.ok(sent.some((r) => r.request_id === outcomes[2].result.requestId), outcomes[2].result.requestId)
})

test('a batch item carries its own per-call settings, as query takes them', async () => {
  const { emulator } = env
  const client = emulator.client({ maxRetries: 2 })
  await emulator.fault({ status: 503, body: { detail: 'busy' }, headers: { 'Retry-After': '0' }, count: 1 })
  // One at a time, so the first item meets the fault.
  const outcomes = await client.queryMany(
    [
      { prompt: 'first', model: 'gpt-4o', maxRetries: 0 },
      { prompt: 'second', model: 'gpt-4o', headers: { 'X-Trace': 'batch-2' }, timeout: 5000, totalTimeout: 10000 },
      { prompt: 'third', model: 'gpt-4o', maxRetries: -1 },
      { prompt: 'fourth', model: 'gpt-4o', signal: new AbortController().signal },
      [],
    ],
    { concurrency: 1 },
  )
  assert.ok(outcomes[0].error, 'the 503 was not retried')
  assert.equal(outcomes[0].error.statusCode, 503)
  assert.equal(outcomes[0].error.attempts, 1)
  assert.equal(outcomes[1].result.cache_hit, false)
  assert.ok(outcomes[2].error instanceof VectorcacheInvalidRequestError)
  assert.equal(outcomes[2].error.message, 'invalid request: query 2: `maxRetries` must be a whole number from 0 to 100, got -1')
  assert.ok(outcomes[3].error instanceof VectorcacheInvalidRequestError)
  assert.match(outcomes[3].error.message, /^invalid request: query 3: unknown query field `signal`/)
  assert.equal(outcomes[4].error.message, 'invalid request: query 4: the query must be an object, got an array')
  const sent = await emulator.requests()
  assert.deepEqual(sent.map((r) => [r.body.prompt, r.status, r.headers['x-trace']]), [
    ['first', 503, undefined],
    ['second', 200, 'batch-2'],
  ])
  // Each item's timeout is its own: the slow answer outlasts only the short one.
  await emulator.fault({ delay_ms: 500, count: 2 })
  const [short, long] = await client.queryMany(
    [
      { prompt: 'short', model: 'gpt-4o', timeout: 100, maxRetries: 0 },
      { prompt: 'long', model: 'gpt-4o', timeout: 5000, maxRetries: 0 },
    ],
    { concurrency: 2 },
  )
  assert.equal(short.error?.kind, 'timeout', short.error?.message)
  assert.equal(long.result?.cache_hit, false, long.error?.message)
})

test('a batch refused as a whole rejects; an aborted batch rejects with AbortError', async () => {
  const { emulator } = env
  const client = emulator.client()
  for (const [requests, options] of [
    ['not an array', {}],
    [[{ prompt: 'p', model: 'gpt-4o' }], { concurrency: 0 }],
    [[{ prompt: 'p', model: 'gpt-4o' }], { concurrency: -1 }],
    [[{ prompt: 'p', model: 'gpt-4o' }], { concurrency: 1.5 }],
    [[{ prompt: 'p', model: 'gpt-4o' }], { concurrency: '4' }],
    [[{ prompt: 'p', model: 'gpt-4o' }], { concurency: 4 }],
  ]) {
    const error = await rejection(client.queryMany(requests, options))
    assert.ok(error instanceof VectorcacheInvalidRequestError, `${JSON.stringify(options)}: ${error.name}`)
  }
  const zero = await rejection(client.queryMany([{ prompt: 'p', model: 'gpt-4o' }], { concurrency: 0 }))
  assert.equal(zero.message, 'invalid request: `concurrency` must be a whole number of at least 1, got 0')
  // No upper bound: a batch never runs more at once than it holds.
  for (const concurrency of [1e6, 2 ** 60, Infinity]) {
    const [wide] = await client.queryMany([{ prompt: 'p', model: 'gpt-4o' }], { concurrency })
    assert.ok(wide.result, `${concurrency}: ${wide.error?.message}`)
  }
  await emulator.fault({ delay_ms: 2000, count: 4 })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 100)
  const error = await rejection(
    client.queryMany([{ prompt: 'a', model: 'gpt-4o' }, { prompt: 'b', model: 'gpt-4o' }], { signal: controller.signal }),
  )
  assert.equal(error.name, 'AbortError')
  assert.deepEqual(await client.queryMany([]), [])
})

test("the earlier package's default export still works", () => {
  assert.equal(VectorcacheClientDefault, VectorcacheClient)
  const require = createRequire(`${PROJECT}/`)
  assert.equal(require('vectorcache').default, require('vectorcache').VectorcacheClient)
})

test('a query whose field cannot be read fails alone, as an invalid request', async () => {
  const client = env.emulator.client()
  const unreadable = {
    model: 'gpt-4o',
    get prompt() {
      throw new Error('boom in getter')
    },
  }
  const trap = new Proxy({}, { ownKeys() { throw new TypeError('no keys for you') } })
  const outcomes = await client.queryMany([unreadable, { prompt: 'fine', model: 'gpt-4o' }, trap])
  assert.equal(outcomes[0].error.kind, 'invalid_request', String(outcomes[0].error))
  assert.match(outcomes[0].error.message, /query 0: cannot read `prompt`: Error: boom in getter/)
  assert.equal(typeof outcomes[1].result.response, 'string')
  assert.match(outcomes[2].error.message, /query 2: cannot read query field: TypeError: no keys for you/)
  const alone = await client.query(unreadable).catch((e) => e)
  assert.equal(alone.kind, 'invalid_request', String(alone))
  assert.equal((await env.emulator.requests()).length, 1)
})

test('a refused call counts the same whichever layer refused it', async () => {
  const client = env.emulator.client()
  // Refused by the core (a blank prompt), by the binding's conversion (a bound of the core's
  // types), by the JavaScript wrapper (a signal that is no AbortSignal), and in a batch by
  // the first two: each is one failed query.
  const request = { prompt: 'p', model: 'gpt-4o' }
  const refused = [[{ ...request, prompt: ' ' }], [request, { maxRetries: 101 }], [request, { timeout: -1 }], [request, { signal: 'stop' }]]
  for (const [query, options] of refused) {
    assert.equal((await rejection(client.query(query, options))).kind, 'invalid_request')
  }
  const outcomes = await client.queryMany([{ ...request, prompt: ' ' }, { ...request, maxRetries: 101 }, request])
  assert.deepEqual(outcomes.map((o) => o.error?.kind ?? 'result'), ['invalid_request', 'invalid_request', 'result'])
  const stats = client.stats()
  assert.deepEqual([stats.queries, stats.errors], [7, { invalid_request: 6 }])
  // A batch refused whole counts nothing, as the core's refusals of one do.
  assert.equal((await rejection(client.queryMany([request], { signal: 'stop' }))).kind, 'invalid_request')
  assert.equal((await rejection(client.queryMany([request], { concurrency: 0 }))).kind, 'invalid_request')
  assert.deepEqual([client.stats().queries, client.stats().errors], [7, { invalid_request: 6 }])
})
