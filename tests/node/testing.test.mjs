// vectorcache/testing: a user's own function tested against the in-process emulator.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { VectorcacheAPIError } from 'vectorcache'
import { Emulator } from 'vectorcache/testing'

import { PROJECT, rejection } from './helpers/emulator.mjs'

/** A user's function: the cache's answer, or a fallback when the cache is down. */
async function answerWithFallback(client, prompt) {
  try {
    return (await client.query({ prompt, model: 'gpt-4o' })).response
  } catch (error) {
    if (error instanceof VectorcacheAPIError) return 'answered by the LLM directly'
    throw error
  }
}

test("a user's function with a fault injected", async () => {
  const emulator = await Emulator.start()
  try {
    const client = emulator.client({ maxRetries: 0 })
    assert.notEqual(await answerWithFallback(client, 'What is AI?'), 'answered by the LLM directly')
    await emulator.addFault({ status: 503, body: { detail: 'down' } })
    assert.equal(await answerWithFallback(client, 'What is AI?'), 'answered by the LLM directly')
    const sent = await emulator.requests()
    assert.deepEqual(sent.map((r) => r.status), [200, 503])
    assert.ok(!JSON.stringify(sent).includes(emulator.apiKey))
    await emulator.reset()
    assert.deepEqual(await emulator.requests(), [])
  } finally {
    await emulator.close()
  }
})

test('a chosen key; require works; closing is idempotent', async () => {
  const key = 'vc_' + 'ab'.repeat(16)
  const { Emulator: Required } = createRequire(`${PROJECT}/`)('vectorcache/testing')
  assert.equal(Required, Emulator)
  const emulator = await Emulator.start({ apiKey: key })
  assert.equal(emulator.apiKey, key)
  assert.match(emulator.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  const url = emulator.baseUrl
  assert.equal(typeof (await emulator.client().query({ prompt: 'p', model: 'gpt-4o' })).response, 'string')
  await emulator.close()
  await emulator.close()
  assert.throws(() => emulator.baseUrl, /closed/)
  const { VectorcacheClient } = await import('vectorcache')
  const error = await rejection(new VectorcacheClient({ apiKey: key, baseUrl: url, maxRetries: 0 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheAPIError, 'nothing listens there any more')
  await assert.rejects(Emulator.start({ prot: 1 }), /unknown Emulator option `prot`/)
})
