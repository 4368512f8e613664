// Retries are the core's: the waits the server asks for are honoured, 4xx are not retried.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { VectorcacheRateLimitError, VectorcacheServerError } from 'vectorcache'

import { rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const rateLimited = (headers) => ({
  status: 429,
  body: { detail: 'Rate limit exceeded. Please try again later.' },
  headers,
})

test('two 429s with Retry-After: 1 are waited out: 3 attempts, about 2 s', async () => {
  const { emulator } = env
  await emulator.fault(rateLimited({ 'Retry-After': '1' }), rateLimited({ 'Retry-After': '1' }))
  const started = Date.now()
  const result = await emulator.client({ maxRetries: 2 }).query({ prompt: 'retry me', model: 'gpt-4o' })
  const elapsed = Date.now() - started
  assert.equal(result.cache_hit, false)
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => r.status), [429, 429, 200])
  assert.ok(elapsed >= 1900, `waited ${elapsed} ms`)
  assert.ok(elapsed < 10_000, `waited ${elapsed} ms`)
})

test('two 429s with X-RateLimit-Reset = now + 1 s are waited out until the reset', async () => {
  const { emulator } = env
  const resetAt = Math.floor(Date.now() / 1000) + 2
  const reset = { 'X-RateLimit-Reset': String(resetAt) }
  await emulator.fault(rateLimited(reset), rateLimited(reset))
  const result = await emulator.client({ maxRetries: 2 }).query({ prompt: 'reset me', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  assert.match(result.response, /"reset me"/)
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => r.status), [429, 429, 200])
  // The third attempt went out no earlier than the reset time the server named.
  assert.ok(Date.now() >= resetAt * 1000 - 50, 'the client waited until X-RateLimit-Reset')
})

test('a wait longer than the client will sit through fails at once with retryAfter', async () => {
  const { emulator } = env
  await emulator.fault(rateLimited({ 'Retry-After': '3600' }))
  const started = Date.now()
  const error = await rejection(emulator.client({ maxRetries: 2 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheRateLimitError)
  assert.equal(error.retryAfter, 3600)
  assert.ok(Date.now() - started < 2000)
  assert.equal(error.attempts, 1)
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [429])
})

test('5xx is retried, up to maxRetries', async () => {
  const { emulator } = env
  await emulator.fault({ status: 503, headers: { 'Retry-After': '0' }, count: 5 })
  const error = await rejection(emulator.client({ maxRetries: 2 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheServerError)
  assert.equal(error.statusCode, 503)
  assert.equal(error.attempts, 3)
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [503, 503, 503])
  assert.equal(await emulator.pendingFaults(), 2, 'no fourth attempt took a fault')
})

test('4xx other than 429 is never retried', async () => {
  const { emulator } = env
  for (const status of [400, 401, 403, 404, 422]) {
    await emulator.reset()
    await emulator.fault({ status, body: { detail: 'no' }, count: 3 })
    const error = await rejection(emulator.client({ maxRetries: 2 }).query({ prompt: 'p', model: 'gpt-4o' }))
    assert.equal(error.statusCode, status)
    assert.equal(error.detail, 'no')
    assert.equal(error.attempts, 1, `status ${status}`)
    assert.deepEqual((await emulator.requests()).map((r) => r.status), [status], `status ${status}`)
    assert.equal(await emulator.pendingFaults(), 2, `status ${status}`)
  }
})
