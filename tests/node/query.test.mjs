// The documented result shape, hits and misses, metadata, and concurrency.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { VERSION } from 'vectorcache'

import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const DOCUMENTED_KEYS = ['cache_hit', 'cost_saved', 'llm_provider', 'response', 'similarity_score']

test('an identical prompt twice: a miss, then a hit with similarity 1', async () => {
  const client = env.emulator.client()
  const request = { prompt: 'What is machine learning?', model: 'gpt-4o' }
  const miss = await client.query(request)
  assert.deepEqual(Object.keys(miss).sort(), DOCUMENTED_KEYS)
  assert.equal(miss.cache_hit, false)
  assert.equal(miss.similarity_score, null)
  assert.equal(miss.cost_saved, 0)
  assert.equal(miss.llm_provider, 'openai')
  // The emulator's deterministic stand-in answer for this prompt and model.
  assert.match(miss.response, /^\[emulated gpt-4o answer\] .*"What is machine learning\?"/)

  const hit = await client.query(request)
  assert.equal(hit.cache_hit, true)
  assert.equal(hit.similarity_score, 1)
  assert.equal(hit.llm_provider, 'cache')
  assert.equal(hit.response, miss.response)
  // What the emulator prices this gpt-4o answer at (crates/vectorcache-emulator/src/pricing.rs).
  assert.equal(hit.cost_saved, 0.000438)
  const log = await env.emulator.requests()
  assert.deepEqual(log.map((r) => [r.status, r.body.prompt]), [[200, request.prompt], [200, request.prompt]])
  // Plain data: round-trips through JSON unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(hit)), { ...hit })
})

test('the request is sent in the documented snake_case shape with the Node user agent', async () => {
  const { emulator } = env
  await emulator.client({ projectId: 'proj_default' }).query({
    prompt: 'p',
    model: 'gpt-4o',
    context: 'faq',
    similarityThreshold: 0.9,
    includeDebug: true,
  })
  const [logged] = await emulator.requests()
  assert.deepEqual(logged.body, {
    prompt: 'p',
    model: 'gpt-4o',
    context: 'faq',
    similarity_threshold: 0.9,
    include_debug: true,
    project_id: 'proj_default',
  })
  assert.ok(logged.headers['user-agent'].includes(`vectorcache-node/${VERSION}`), logged.headers['user-agent'])
  assert.equal(logged.headers.authorization, 'Bearer vc_0123…')
  assert.equal(logged.headers['content-type'], 'application/json')
  assert.equal(logged.method, 'POST')
  assert.equal(logged.path, '/v1/cache/query')
})

test('includeDebug adds the debug object; contexts segment the cache', async () => {
  const client = env.emulator.client()
  const first = await client.query({ prompt: 'What is AI?', model: 'gpt-4o', context: 'a', includeDebug: true })
  assert.equal(first.cache_hit, false)
  assert.deepEqual(Object.keys(first.debug).sort(), [
    'cache_entry_count',
    'embedding_time_ms',
    'matched_cache_entry_id',
    'search_time_ms',
    'total_time_ms',
  ])
  assert.equal(first.debug.matched_cache_entry_id, null)
  const other = await client.query({ prompt: 'What is AI?', model: 'gpt-4o', context: 'b' })
  assert.equal(other.cache_hit, false)
  assert.equal(other.debug, undefined)
  const again = await client.query({ prompt: 'What is AI?', model: 'gpt-4o', context: 'a', includeDebug: true })
  assert.equal(again.cache_hit, true)
  assert.match(again.debug.matched_cache_entry_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  // The context went on the wire with each query.
  const log = await env.emulator.requests()
  assert.deepEqual(log.map((r) => [r.body.context, r.body.include_debug]), [['a', true], ['b', undefined], ['a', true]])
})

test('requestId and rateLimit are readable but not enumerable', async () => {
  const { emulator } = env
  await emulator.fault({ status: 200, body: {
    cache_hit: false, response: 'r', similarity_score: null, cost_saved: 0, llm_provider: 'openai',
  }, headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '99', 'X-RateLimit-Reset': '1900000000', 'X-Request-Id': 'req_fixed' } })
  const client = emulator.client()
  const single = await client.query({ prompt: 'p', model: 'gpt-4o' })
  // The same fault answers a batch's member (a batch is built by the same native code).
  await emulator.fault({ status: 200, body: {
    cache_hit: false, response: 'r', similarity_score: null, cost_saved: 0, llm_provider: 'openai',
  }, headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '99', 'X-RateLimit-Reset': '1900000000', 'X-Request-Id': 'req_fixed' } })
  const [member] = await client.queryMany([{ prompt: 'p', model: 'gpt-4o' }])
  assert.deepEqual(Object.keys(member), ['result'])
  for (const result of [single, member.result]) {
    assert.equal(result.requestId, 'req_fixed')
    assert.deepEqual(result.rateLimit, { limit: 100, remaining: 99, reset: 1900000000 })
    assert.deepEqual(Object.keys(result).sort(), DOCUMENTED_KEYS)
    assert.ok(!JSON.stringify(result).includes('req_fixed'))
    assert.deepEqual({ ...result }, { cache_hit: false, response: 'r', similarity_score: null, cost_saved: 0, llm_provider: 'openai' })
  }
  // Without the headers the metadata is there, undefined.
  const plain = await client.query({ prompt: 'other', model: 'gpt-4o' })
  assert.ok('rateLimit' in plain && 'requestId' in plain)
  assert.equal(typeof plain.requestId, 'string') // the emulator sends one
})

test("a query's fields are its enumerable properties, own or inherited (as for...in sees them)", async () => {
  const { emulator } = env
  const client = emulator.client()
  const inherited = Object.create({ prompt: 'What is AI?', model: 'gpt-4o' })
  inherited.context = 'inherited'
  const hidden = { prompt: 'What is AI?', model: 'gpt-4o' }
  Object.defineProperty(hidden, 'context', { value: 'never sent', enumerable: false })
  await client.query(inherited)
  await client.query(hidden)
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => [r.body.prompt, r.body.context]), [['What is AI?', 'inherited'], ['What is AI?', undefined]])
})

test('200 concurrent queries on one client, the event loop stays free', async () => {
  const client = env.emulator.client()
  let ticks = 0
  const ticker = setInterval(() => ticks++, 5)
  const started = Date.now()
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.query({ prompt: `question number ${i % 50}`, model: 'gpt-4o' })),
    )
    assert.equal(results.length, 200)
    // Each result is the answer to its own prompt (the stand-in answer quotes it).
    results.forEach((r, i) => assert.ok(r.response.includes(`"question number ${i % 50}"`), `${i}: ${r.response}`))
  } finally {
    clearInterval(ticker)
  }
  const elapsed = Date.now() - started
  // Timers kept firing while the requests were in flight (the loop was never blocked).
  assert.ok(ticks >= Math.min(3, Math.floor(elapsed / 20)), `${ticks} ticks in ${elapsed} ms`)
  // Every query went out once: each of the 50 prompts four times, all answered.
  const log = await env.emulator.requests()
  assert.equal(log.length, 200)
  assert.ok(log.every((r) => r.status === 200))
  const perPrompt = {}
  for (const r of log) perPrompt[r.body.prompt] = (perPrompt[r.body.prompt] ?? 0) + 1
  assert.deepEqual(perPrompt, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`question number ${i}`, 4])))
})

test('per-call headers in every shape fetch takes, and a signal of null', async () => {
  const client = env.emulator.client()
  const request = { prompt: 'headers', model: 'gpt-4o' }
  const shapes = [
    { 'x-trace': 'object' },
    new Map([['x-trace', 'map']]),
    new Headers({ 'x-trace': 'headers' }),
    [['x-trace', 'pairs']],
  ]
  for (const headers of shapes) await client.query(request, { headers, signal: null })
  await client.queryMany([{ ...request, headers: new Map([['x-trace', 'batch']]) }], { signal: null })
  const sent = (await env.emulator.requests()).map((r) => r.headers['x-trace'])
  assert.deepEqual(sent, ['object', 'map', 'headers', 'pairs', 'batch'])
  // A list that is not of pairs says what it must be; nothing is sent.
  const refused = await client.query(request, { headers: [['x-trace']] }).catch((e) => e)
  assert.equal(refused.kind, 'invalid_request', String(refused))
  assert.match(refused.message, /`headers` as a list must hold \[name, value\] pairs/)
  const notText = await client.query(request, { headers: new Map([['x-trace', 7]]) }).catch((e) => e)
  assert.match(notText.message, /`headers` must map names to strings/)
  assert.equal((await env.emulator.requests()).length, 5)
})
