// Every error class from a real HTTP answer of the emulator, driven by the shared fixture
// tests/fixtures/error_cases.json (the Python suite reads the same cases).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import * as vectorcache from 'vectorcache'

import { ERROR_CASES, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

describe('each fixture fault raises its class', () => {
  for (const fixture of ERROR_CASES.cases) {
    test(fixture.name, async () => {
      const { emulator } = env
      await emulator.fault(fixture.fault)
      const error = await rejection(emulator.client().query({ prompt: 'What is AI?', model: 'gpt-4o' }))

      const ExpectedClass = vectorcache[fixture.node]
      assert.ok(ExpectedClass, `the package exports ${fixture.node}`)
      assert.ok(error instanceof ExpectedClass, `${error.name} is a ${fixture.node}`)
      assert.ok(error instanceof vectorcache.VectorcacheAPIError)
      assert.ok(error instanceof vectorcache.VectorcacheError)
      assert.ok(error instanceof Error)
      assert.equal(error.name, error.constructor.name)
      assert.equal(error.kind, fixture.kind)
      assert.equal(error.statusCode, fixture.status)
      assert.equal(error.detail ?? null, fixture.detail)
      assert.equal(error.retryAfter ?? null, fixture.retry_after ?? null)
      assert.equal(typeof error.message, 'string')
      assert.ok(error.message.length > 0)

      // The guide's axios-style view of the same answer.
      assert.equal(error.response?.status, fixture.status)
      assert.equal(typeof error.response?.headers, 'object')
      // Every answer, decodable or not, keeps its headers and request id.
      assert.match(error.requestId, /^req_/)
      assert.equal(error.headers['x-request-id'], error.requestId)
      for (const name of Object.keys(error.headers)) assert.equal(name, name.toLowerCase())
      if (fixture.kind !== 'decode') {
        const body = fixture.fault.body
        if (body !== undefined) assert.deepEqual(error.response.data, body)
      }
      // A fault is one answer: with maxRetries 0 exactly one request was made.
      assert.equal((await emulator.requests()).length, 1)
    })
  }
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

test('the emulator itself answers 401 for a key it does not know', async () => {
  const { emulator } = env
  const client = emulator.client({ apiKey: 'vc_ffffffffffffffffffffffffffffffff' })
  const error = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof vectorcache.VectorcacheAuthenticationError)
  assert.equal(error.statusCode, 401)
  assert.equal(error.kind, 'authentication')
})

test('the emulator answers 403 for another project', async () => {
  const { emulator } = env
  const error = await rejection(
    emulator.client({ projectId: 'proj_someone_else' }).query({ prompt: 'p', model: 'gpt-4o' }),
  )
  assert.ok(error instanceof vectorcache.VectorcachePermissionError)
  assert.equal(error.statusCode, 403)
  assert.equal(error.detail, 'API key does not have permission to access this project')
})
