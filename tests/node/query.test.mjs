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
  assert.equal(typeof miss.response, 'string')

  const hit = await client.query(request)
  assert.equal(hit.cache_hit, true)
  assert.equal(hit.similarity_score, 1)
  assert.equal(hit.llm_provider, 'cache')
  assert.equal(hit.response, miss.response)
  assert.ok(hit.cost_saved > 0)
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
  assert.match(logged.headers.authorization, /^Bearer vc_0123/)
})

test('includeDebug adds the debug object; contexts segment the cache', async () => {
  const client = env.emulator.client()
  const first = await client.query({ prompt: 'What is AI?', model: 'gpt-4o', context: 'a', includeDebug: true })
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
  assert.equal(typeof again.debug.matched_cache_entry_id, 'string')
})

test('requestId and rateLimit are readable but not enumerable', async () => {
  const { emulator } = env
  await emulator.fault({ status: 200, body: {
    cache_hit: false, response: 'r', similarity_score: null, cost_saved: 0, llm_provider: 'openai',
  }, headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '99', 'X-RateLimit-Reset': '1900000000', 'X-Request-Id': 'req_fixed' } })
  const result = await emulator.client().query({ prompt: 'p', model: 'gpt-4o' })
  assert.equal(result.requestId, 'req_fixed')
  assert.deepEqual(result.rateLimit, { limit: 100, remaining: 99, reset: 1900000000 })
  assert.deepEqual(Object.keys(result).sort(), DOCUMENTED_KEYS)
  assert.ok(!JSON.stringify(result).includes('req_fixed'))
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
    for (const r of results) assert.equal(typeof r.response, 'string')
  } finally {
    clearInterval(ticker)
  }
  const elapsed = Date.now() - started
  // Timers kept firing while the requests were in flight (the loop was never blocked).
  assert.ok(ticks >= Math.min(3, Math.floor(elapsed / 20)), `${ticks} ticks in ${elapsed} ms`)
  assert.equal((await env.emulator.requests()).length, 200)
})
