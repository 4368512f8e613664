// Every error class from a real HTTP answer of the emulator, driven by the shared fixture
// tests/fixtures/error_cases.json (the Python suite reads the same cases).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import * as vectorcache from 'vectorcache'

import { API_KEY, ERROR_CASES, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

const ANCESTORS = ERROR_CASES.node_classes

/** Sets a fixture case up (fault, client settings, query fields) and returns its error. */
async function raiseCase(emulator, fixture) {
  if (fixture.fault) await emulator.fault(fixture.fault)
  const options = { apiKey: API_KEY, baseUrl: emulator.url, maxRetries: 0 }
  const spelling = { api_key: 'apiKey', base_url: 'baseUrl', max_retries: 'maxRetries', timeout_ms: 'timeout', max_connections: 'maxConnections' }
  for (const [name, value] of Object.entries(fixture.client ?? {})) {
    if (value === null) delete options[spelling[name]]
    else options[spelling[name]] = value
  }
  const querySpelling = { prompt: 'prompt', similarity_threshold: 'similarityThreshold' }
  const request = { prompt: 'What is ML?', model: 'gpt-4o' }
  for (const [name, value] of Object.entries(fixture.query ?? {})) request[querySpelling[name]] = value
  try {
    await new vectorcache.VectorcacheClient(options).query(request)
  } catch (error) {
    return error
  }
  throw new Error(`${fixture.name}: expected an error`)
}

describe('every fixture case raises its class with every field', () => {
  for (const fixture of ERROR_CASES.cases) {
    test(fixture.name, async () => {
      const { emulator } = env
      const error = await raiseCase(emulator, fixture)

      // The class, exactly, and the hierarchy: an instance of its ancestors and nothing else.
      assert.equal(error.constructor.name, fixture.node, `${error.name}: ${error.message}`)
      assert.equal(error.name, fixture.node)
      const families = new Set([fixture.node, ...ANCESTORS[fixture.node]])
      for (const family of Object.keys(ANCESTORS)) {
        assert.equal(error instanceof vectorcache[family], families.has(family), family)
      }
      assert.ok(error instanceof Error)

      assert.equal(error.kind, fixture.kind)
      assert.equal(error.statusCode ?? null, fixture.status)
      assert.equal(error.status ?? null, fixture.status)
      assert.equal(error.detail ?? null, fixture.detail)
      assert.ok(error.message.startsWith(fixture.node_message_prefix ?? fixture.message_prefix), error.message)
      assert.equal(error.retryAfter ?? null, fixture.retry_after ?? null)
      assert.equal(error.attempts ?? null, fixture.attempts)
      assert.deepEqual(error.rateLimit ?? null, fixture.rate_limit ?? null)
      if (fixture.status === null) {
        assert.deepEqual(error.headers, {})
        assert.equal(error.body, undefined)
        assert.equal(error.requestId, undefined)
        assert.equal(error.response, undefined)
      } else {
        const faultBody = fixture.fault.body ?? ''
        if (typeof faultBody === 'string') assert.equal(error.body, faultBody)
        else assert.deepEqual(JSON.parse(error.body), faultBody)
        assert.match(error.requestId, /^req_/)
        assert.equal(error.headers['x-request-id'], error.requestId)
        for (const name of Object.keys(error.headers)) assert.equal(name, name.toLowerCase())
        // The guide's axios-style view of the same answer.
        assert.equal(error.response.status, fixture.status)
        assert.equal(error.response.headers, error.headers)
        if (fixture.kind !== 'decode' && typeof faultBody !== 'string') {
          assert.deepEqual(error.response.data, faultBody)
        }
      }
      for (const [name, value] of Object.entries(fixture.headers ?? {})) {
        assert.equal(error.headers[name], value)
      }
      if (fixture.has_cause) {
        assert.ok(error.cause instanceof Error, `cause: ${error.cause}`)
        assert.ok(error.cause.message.length > 0)
      } else {
        assert.equal(error.cause, undefined)
      }
      if (fixture.requests !== null) {
        assert.equal((await emulator.requests()).length, fixture.requests)
      }
      if (fixture.fault) {
        // Every queued fault was taken by an attempt, also where the log cannot show it (a
        // timed-out request is logged only once answered).
        assert.equal(await emulator.pendingFaults(), 0)
      }
    })
  }
})

test('every class against every family', () => {
  for (const [name, ancestors] of Object.entries(ANCESTORS)) {
    const Class = vectorcache[name]
    assert.ok(Class, `the package exports ${name}`)
    for (const family of Object.keys(ANCESTORS)) {
      const expected = family === name || ancestors.includes(family)
      assert.equal(Class.prototype instanceof vectorcache[family] || Class === vectorcache[family], expected, `${name} / ${family}`)
    }
  }
  const exported = Object.keys(vectorcache).filter((n) => n.endsWith('Error'))
  assert.deepEqual(exported.sort(), Object.keys(ANCESTORS).sort())
})

test('headers of a 429 are readable as the docs do', async () => {
  const { emulator } = env
  const reset = String(Math.floor(Date.now() / 1000) + 120)
  await emulator.fault({
    status: 429,
    body: { detail: 'Rate limit exceeded. Please try again later.' },
    headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset },
  })
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof vectorcache.VectorcacheRateLimitError)
  assert.equal(error.headers['x-ratelimit-reset'], reset)
  assert.equal(error.response.headers['x-ratelimit-limit'], '100')
  assert.deepEqual(error.rateLimit, { limit: 100, remaining: 0, reset: Number(reset) })
  assert.ok(error.retryAfter > 100 && error.retryAfter <= 120, `retryAfter ${error.retryAfter}`)
})

test('a "__proto__" in the error body or headers is an own property, as JSON.parse keeps it', async () => {
  const { emulator } = env
  const body = '{"detail":"x","__proto__":{"polluted":"yes"}}'
  // A computed key is an own property; `{ __proto__: ... }` would not be one.
  await emulator.fault({ status: 400, body, headers: { ['__proto__']: 'header value' } })
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof vectorcache.VectorcacheValidationError)
  assert.equal(error.detail, 'x')
  const { data } = error.response
  assert.deepEqual(Object.keys(data).sort(), Object.keys(JSON.parse(body)).sort())
  assert.deepEqual(Object.getOwnPropertyDescriptor(data, '__proto__')?.value, { polluted: 'yes' })
  assert.equal(Object.getPrototypeOf(data), Object.prototype)
  assert.equal(data.polluted, undefined)
  assert.equal(Object.getOwnPropertyDescriptor(error.headers, '__proto__')?.value, 'header value')
  assert.equal(Object.getPrototypeOf(error.headers), Object.prototype)
})

test('the emulator itself answers 401 for a key it does not know', async () => {
  const { emulator } = env
  const client = emulator.client({ apiKey: 'vc_ffffffffffffffffffffffffffffffff' })
  const error = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof vectorcache.VectorcacheAuthenticationError)
  assert.equal(error.statusCode, 401)
  assert.equal(error.kind, 'authentication')
  assert.equal(error.detail, 'Invalid API key')
  // The emulator's own answer (no fault), to the one request sent.
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => [r.status, r.fault, r.headers.authorization]), [[401, false, 'Bearer vc_ffff…']])
})

test('the emulator answers 403 for another project', async () => {
  const { emulator } = env
  const error = await rejection(
    emulator.client({ projectId: 'proj_someone_else' }).query({ prompt: 'p', model: 'gpt-4o' }),
  )
  assert.ok(error instanceof vectorcache.VectorcachePermissionError)
  assert.equal(error.statusCode, 403)
  assert.equal(error.detail, 'API key does not have permission to access this project')
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => [r.status, r.fault, r.body.project_id]), [[403, false, 'proj_someone_else']])
})
