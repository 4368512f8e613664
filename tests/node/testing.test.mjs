// vectorcache/testing: a user's own function tested against the in-process emulator.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { inspect } from 'node:util'

import { VectorcacheAPIError, VectorcacheNetworkError } from 'vectorcache'
import { Emulator } from 'vectorcache/testing'

import { runNode } from './helpers/child.mjs'
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
    // The cache's own answer (the emulator's stand-in for this prompt), not the fallback.
    assert.match(await answerWithFallback(client, 'What is AI?'), /^\[emulated gpt-4o answer\] .*"What is AI\?"/)
    await emulator.addFault({ status: 503, body: { detail: 'down' } })
    assert.equal(await answerWithFallback(client, 'What is AI?'), 'answered by the LLM directly')
    const sent = await emulator.requests()
    assert.deepEqual(sent.map((r) => r.status), [200, 503])
    assert.deepEqual(sent.map((r) => r.fault), [false, true])
    assert.equal(sent[0].headers.authorization, `Bearer ${emulator.apiKey.slice(0, 7)}…`)
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
  // The client it makes uses the chosen key, and the emulator accepts it.
  const result = await emulator.client().query({ prompt: 'p', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.headers.authorization]), [[200, 'Bearer vc_abab…']])
  await emulator.close()
  await emulator.close()
  assert.throws(() => emulator.baseUrl, /closed/)
  for (const call of [() => emulator.addFault({ status: 503 }), () => emulator.requests(), () => emulator.reset()]) {
    await assert.rejects(call(), /^Error: the emulator is closed$/)
  }
  const { VectorcacheClient } = await import('vectorcache')
  const error = await rejection(new VectorcacheClient({ apiKey: key, baseUrl: url, maxRetries: 0 }).query({ prompt: 'p', model: 'gpt-4o' }))
  // Nothing listens there any more: a connection failure, not an answer.
  assert.ok(error instanceof VectorcacheNetworkError, String(error))
  assert.equal(error.kind, 'connection')
  assert.equal(error.statusCode, undefined)
  await assert.rejects(Emulator.start({ prot: 1 }), (e) => e instanceof TypeError && /unknown Emulator option `prot`; did you mean `port`\?/.test(e.message))
})

test('faults in camelCase; a fault the emulator cannot make rejects with its reason', async () => {
  const circular = {}
  circular.self = circular
  const emulator = await Emulator.start()
  try {
    const client = emulator.client({ maxRetries: 0 })
    await emulator.addFault({ dropConnection: true })
    assert.ok((await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))) instanceof VectorcacheNetworkError)
    await emulator.addFault({ status: 503, delayMs: 300 })
    const started = performance.now()
    const slow = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
    assert.equal(slow.statusCode, 503)
    assert.ok(performance.now() - started >= 250, 'the delay was applied')
    for (const [fault, message] of [
      [{ status: 'x' }, /^the emulator refused the fault: .*status/],
      [{ stauts: 503 }, /^the emulator refused the fault: .*stauts/],
      [{ delayMs: 1, delay_ms: 1 }, /give `delayMs` or `delay_ms`, not both/],
      [{ status: 503, count: NaN }, /^the emulator refused the fault: it holds a number JSON cannot carry \(NaN or an infinity\)$/],
      [{ delayMs: Infinity }, /^the emulator refused the fault: .*NaN or an infinity/],
      [null, /^the emulator refused the fault: a fault must be a JSON object$/],
      [undefined, /^the emulator refused the fault: a fault must be a JSON object$/],
      [[{ status: 503 }], /^the emulator refused the fault: a fault must be a JSON object$/],
      [{ status: 503, body: circular }, /^the emulator refused the fault: it contains itself \(a circular reference\)$/],
      [{ status: 503, body: { n: 1n } }, /^the emulator refused the fault: it cannot be written as JSON \(.*BigInt/],
      [{ status: 200, body: 'x'.repeat(64 * 2 ** 20 + 1) }, /^the emulator refused the fault: body must be at most 64 MiB/],
    ]) {
      await assert.rejects(emulator.addFault(fault), (e) => e instanceof TypeError && message.test(e.message), inspect(fault, { maxStringLength: 20 }))
    }
    // Accepted, it answers what the emulator said; nothing was queued by the refused ones.
    assert.deepEqual(await emulator.addFault({ status: 500 }), { queued: 1, pending: 1 })
    assert.deepEqual(await emulator.addFault({ status: 502, count: 2 }), { queued: 1, pending: 3 })
    await emulator.reset()
    assert.equal((await client.query({ prompt: 'p', model: 'gpt-4o' })).cache_hit, false)
  } finally {
    await emulator.close()
  }
  for (const port of [-1, 70000, 1.5]) {
    await assert.rejects(Emulator.start({ port }), (e) => e instanceof TypeError && /`port`/.test(e.message), String(port))
  }
})

test('rate limiting: generous headers by default, your own limit, or off', async () => {
  const limits = async (options, queries = 1) => {
    const emulator = await Emulator.start(options)
    try {
      const client = emulator.client({ maxRetries: 0 })
      const outcomes = []
      for (let i = 0; i < queries; i++) outcomes.push(await client.query({ prompt: `p${i}`, model: 'gpt-4o' }).catch((e) => e))
      return outcomes
    } finally {
      await emulator.close()
    }
  }
  const [byDefault] = await limits()
  assert.equal(byDefault.rateLimit.limit, 100000)
  assert.equal(byDefault.rateLimit.remaining, 99999)
  const [off] = await limits({ rateLimit: false })
  assert.equal(off.rateLimit ?? null, null)
  assert.equal(typeof off.response, 'string')
  const [first, refused] = await limits({ rateLimit: { perMinute: 2, burst: 1 } }, 2)
  assert.deepEqual([first.rateLimit.limit, first.rateLimit.remaining], [2, 0])
  const { VectorcacheRateLimitError } = await import('vectorcache')
  assert.ok(refused instanceof VectorcacheRateLimitError, String(refused))
  assert.equal(refused.statusCode, 429)
  assert.ok(refused.retryAfter >= 1 && refused.retryAfter <= 30, String(refused.retryAfter))
  const emulator = await Emulator.start()
  try {
    await emulator.addFault({ status: 429 })
    await emulator.addFault({ status: 429, body: null })
    const client = emulator.client({ maxRetries: 0 })
    const query = () => client.query({ prompt: 'p', model: 'gpt-4o' }).catch((e) => e)
    const limited = await query()
    assert.ok(limited instanceof VectorcacheRateLimitError, String(limited))
    assert.equal(limited.detail, 'Rate limit exceeded. Please try again later.')
    assert.equal(limited.retryAfter, 1)
    assert.deepEqual([limited.rateLimit.limit, limited.rateLimit.remaining], [100000, 0])
    assert.equal(limited.headers['x-ratelimit-remaining'], '0')
    // Asked for, the body is empty and the headers are only the fault's.
    const empty = await query()
    assert.ok(empty instanceof VectorcacheRateLimitError, String(empty))
    assert.equal(empty.retryAfter ?? null, null)
    assert.equal(empty.headers['x-ratelimit-limit'], undefined)
  } finally {
    await emulator.close()
  }
  for (const [rateLimit, message] of [
    [{ perMinute: 0 }, /per_minute must be at least 1/],
    [{ perMinute: 1.5 }, /`perMinute` must be a whole number/],
    [{ perMinute: 5, burts: 1 }, /unknown rateLimit field `burts`; did you mean `burst`\?/],
    ['yes', /`rateLimit` must be true, false or/],
  ]) {
    await assert.rejects(Emulator.start({ rateLimit }), (e) => e instanceof TypeError && message.test(e.message), String(message))
  }
})

// An emulator runs until close(), as an http.Server does: one the program no longer
// references is not stopped by the garbage collector (its clients still use it), and one
// closed is let go.
const UNREFERENCED_SCRIPT = `
const { Emulator } = require('vectorcache/testing')
const collect = async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
}
async function started() {
  const emulator = await Emulator.start()
  return { client: emulator.client({ maxRetries: 0 }), emulator: new WeakRef(emulator) }
}
;(async () => {
  const { client, emulator } = await started()
  await collect()
  console.log('kept', emulator.deref() !== undefined)
  const answer = await client.query({ prompt: 'after the collection', model: 'gpt-4o' })
  console.log('answered', answer.cache_hit, (await emulator.deref().requests()).length)
  await emulator.deref().close()
  await collect()
  console.log('closed and let go', emulator.deref() === undefined)
})()
`

test('an emulator runs until close(), even when no longer referenced', async () => {
  const { code, stdout, stderr } = await runNode(['--expose-gc', '-e', UNREFERENCED_SCRIPT], { timeoutMs: 30_000 })
  assert.equal(code, 0, stderr)
  assert.equal(stdout, 'kept true\nanswered false 1\nclosed and let go true\n')
})

// A suite that starts an emulator per test (a new port, so a new origin each time) keeps no
// memory per emulator once it is closed: nothing of a closed emulator is kept (the admin calls,
// in process, hold no connection; when they went over fetch, its pool per origin stayed).
const CHURN_SCRIPT = `
const { Emulator } = require('vectorcache/testing')
const heap = async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  return process.memoryUsage().heapUsed
}
async function churn(times) {
  for (let i = 0; i < times; i++) {
    const emulator = await Emulator.start()
    await emulator.addFault({ status: 503 })
    await emulator.reset()
    await emulator.requests()
    await emulator.close()
  }
}
;(async () => {
  await churn(50)
  const before = await heap()
  await churn(300)
  console.log(JSON.stringify({ perEmulator: ((await heap()) - before) / 300 }))
})()
`

test('emulators started and closed one after another keep no memory each', async () => {
  const { code, stdout, stderr } = await runNode(['--expose-gc', '-e', CHURN_SCRIPT], { timeoutMs: 60_000 })
  assert.equal(code, 0, stderr)
  const { perEmulator } = JSON.parse(stdout)
  // Node's fetch kept about 26 kB per emulator (a pool per origin, for good).
  assert.ok(perEmulator < 5_000, `${perEmulator} bytes of heap per emulator`)
})
