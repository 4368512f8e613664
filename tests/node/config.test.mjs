// Configuration from the environment (read by the core's builder) and key rotation.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'

import { VectorcacheAuthenticationError, VectorcacheClient, VectorcacheConfigurationError } from 'vectorcache'

import { API_KEY, OTHER_KEY, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const saved = {}

beforeEach(() => {
  for (const name of ['VECTORCACHE_API_KEY', 'VECTORCACHE_BASE_URL']) {
    saved[name] = process.env[name]
    delete process.env[name]
  }
})

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

test('no key anywhere: a configuration error naming VECTORCACHE_API_KEY', () => {
  assert.throws(
    () => new VectorcacheClient(),
    (e) => e instanceof VectorcacheConfigurationError && e.kind === 'missing_api_key' && /VECTORCACHE_API_KEY/.test(e.message),
  )
  // The documented call with an unset variable is the same error.
  assert.throws(
    () => new VectorcacheClient({ apiKey: process.env.VECTORCACHE_API_KEY }),
    (e) => e instanceof VectorcacheConfigurationError && e.kind === 'missing_api_key' && /VECTORCACHE_API_KEY/.test(e.message),
  )
})

test('key and base URL come from VECTORCACHE_API_KEY and VECTORCACHE_BASE_URL', async () => {
  process.env.VECTORCACHE_API_KEY = API_KEY
  process.env.VECTORCACHE_BASE_URL = env.emulator.url
  const client = new VectorcacheClient()
  assert.equal(client.baseUrl, `${env.emulator.url}/`)
  const result = await client.query({ prompt: 'from the environment', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  // It reached this emulator, with the key from the environment.
  const log = await env.emulator.requests()
  assert.deepEqual(
    log.map((r) => [r.status, r.headers.authorization, r.body.prompt]),
    [[200, 'Bearer vc_0123…', 'from the environment']],
  )
})

test('explicit options beat the environment', async () => {
  process.env.VECTORCACHE_API_KEY = OTHER_KEY
  process.env.VECTORCACHE_BASE_URL = 'https://api.vectorcache.ai'
  const client = new VectorcacheClient({ apiKey: API_KEY, baseUrl: env.emulator.url, maxRetries: 0 })
  assert.equal(client.baseUrl, `${env.emulator.url}/`)
  const result = await client.query({ prompt: 'explicit', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  // One request, to the explicit URL, with the explicit key (the environment's is vc_ffff…).
  const log = await env.emulator.requests()
  assert.deepEqual(log.map((r) => [r.status, r.headers.authorization]), [[200, 'Bearer vc_0123…']])
})

test('defaults: the documented base URL, 30000 ms, 2 retries', () => {
  const client = new VectorcacheClient({ apiKey: API_KEY })
  assert.equal(client.baseUrl, 'https://api.vectorcache.ai/')
  assert.equal(client.timeout, 30000)
  assert.equal(client.maxRetries, 2)
  assert.equal(client.projectId, undefined)
  const tuned = new VectorcacheClient({ apiKey: API_KEY, timeout: 1500, maxRetries: 5, projectId: 'proj_x' })
  assert.equal(tuned.timeout, 1500)
  assert.equal(tuned.maxRetries, 5)
  assert.equal(tuned.projectId, 'proj_x')
})

test('setApiKey rotates the key on a live client', async () => {
  const { emulator } = env
  const client = emulator.client({ apiKey: OTHER_KEY })
  const error = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheAuthenticationError)
  client.setApiKey(API_KEY)
  assert.equal(client.toJSON().apiKey, 'vc_0123…')
  await client.query({ prompt: 'p', model: 'gpt-4o' })
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => r.status), [401, 200])
  assert.deepEqual(log.map((r) => r.headers.authorization), ['Bearer vc_ffff…', 'Bearer vc_0123…'])
})
