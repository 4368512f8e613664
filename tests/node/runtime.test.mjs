// The runtime in production settings: cancellation with an AbortSignal, per-call settings,
// the total timeout, and a bounded pool under a 1,024 open-file limit.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, test } from 'node:test'

import {
  VectorcacheClient,
  VectorcacheConfigurationError,
  VectorcacheInvalidRequestError,
  VectorcacheRateLimitError,
  VectorcacheTimeoutError,
} from 'vectorcache'

import { API_KEY, PROJECT, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

const HIT = JSON.stringify({ cache_hit: true, response: 'r', similarity_score: 0.9, cost_saved: 0.001, llm_provider: 'cache' })

/** A loopback server answering each query after `delayMs` (a hit, or `status`), which counts
 * requests, connections open at once, and requests whose connection closed unanswered. */
async function slowServer({ delayMs, status = 200, body = HIT }) {
  const stats = { requests: 0, open: 0, peakOpen: 0, closedUnanswered: 0 }
  const server = http.createServer((req, res) => {
    stats.requests += 1
    req.resume()
    let answered = false
    const timer = setTimeout(() => {
      answered = true
      res.writeHead(status, { 'content-type': 'application/json' }).end(body)
    }, delayMs)
    res.on('close', () => {
      if (!answered) {
        clearTimeout(timer)
        stats.closedUnanswered += 1
      }
    })
  })
  server.keepAliveTimeout = 10_000
  server.on('connection', (socket) => {
    stats.open += 1
    stats.peakOpen = Math.max(stats.peakOpen, stats.open)
    socket.on('close', () => (stats.open -= 1))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url,
    stats,
    client: (options = {}) => new VectorcacheClient({ apiKey: API_KEY, baseUrl: url, maxRetries: 0, ...options }),
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

async function waitFor(condition, ms = 2000) {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  return condition()
}

/** Runs `body` against a server of its own, so that stragglers of earlier tests (a request
 * aborted while on its way still arrives) cannot change the counts it asserts. */
async function withOwnServer(options, body) {
  const server = await slowServer(options)
  try {
    await body(server)
  } finally {
    await server.close()
  }
}

let slow
before(async () => {
  slow = await slowServer({ delayMs: 2000 })
})
after(() => slow.close())

test('an abort at 100 ms rejects at once with AbortError and closes the connection', async () => {
  const controller = new AbortController()
  const before = { requests: slow.stats.requests, closed: slow.stats.closedUnanswered }
  const started = performance.now()
  const pending = rejection(slow.client().query({ prompt: 'p', model: 'gpt-4o' }, { signal: controller.signal }))
  // Abort at 100 ms, once the request is at the server (a loaded machine may take longer).
  assert.ok(await waitFor(() => slow.stats.requests === before.requests + 1), 'the request arrived')
  await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - started))))
  const aborted = performance.now()
  controller.abort()
  const error = await pending
  const latency = performance.now() - aborted
  assert.equal(error.name, 'AbortError')
  assert.ok(error instanceof DOMException)
  assert.ok(latency < 150, `rejected ${latency.toFixed(1)} ms after the abort`)
  assert.ok(await waitFor(() => slow.stats.closedUnanswered === before.closed + 1), 'the server saw the connection close')
})

test('an aborted query is not retried', async () => {
  const down = await slowServer({ delayMs: 50, status: 503, body: '{"detail":"down"}' })
  try {
    const controller = new AbortController()
    const pending = rejection(
      down.client({ maxRetries: 5 }).query({ prompt: 'p', model: 'gpt-4o' }, { signal: controller.signal }),
    )
    // Abort during the first attempt, once it is at the server.
    assert.ok(await waitFor(() => down.stats.requests === 1), 'the first attempt arrived')
    controller.abort()
    const error = await pending
    assert.equal(error.name, 'AbortError')
    await new Promise((r) => setTimeout(r, 1500)) // longer than the backoffs that would follow
    assert.equal(down.stats.requests, 1, 'no attempt after the abort')
  } finally {
    await down.close()
  }
})

test('an already aborted signal sends nothing', async () => {
  await withOwnServer({ delayMs: 2000 }, async (quiet) => {
    const controller = new AbortController()
    controller.abort(new Error('changed my mind'))
    const error = await rejection(quiet.client().query({ prompt: 'p', model: 'gpt-4o' }, { signal: controller.signal }))
    assert.equal(error.name, 'AbortError')
    assert.equal(error.cause.message, 'changed my mind')
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(quiet.stats.requests, 0)
  })
})

test('one signal shared by many queries: no listener-leak warning, and one abort ends them all', async () => {
  const warnings = []
  const onWarning = (warning) => warnings.push(warning.name)
  process.on('warning', onWarning)
  try {
    const client = slow.client()
    const controller = new AbortController()
    const before = slow.stats.requests
    // Twelve at once on one signal: one listener each would pass Node's limit of ten.
    const pending = Array.from({ length: 12 }, () =>
      rejection(client.query({ prompt: 'p', model: 'gpt-4o' }, { signal: controller.signal })))
    assert.ok(await waitFor(() => slow.stats.requests === before + 12), 'all twelve arrived')
    controller.abort()
    const errors = await Promise.all(pending)
    assert.deepEqual(errors.map((e) => e.name), Array(12).fill('AbortError'))
    // Later queries on a signal that served others still abort.
    const again = new AbortController()
    const first = rejection(client.query({ prompt: 'p', model: 'gpt-4o' }, { signal: again.signal }))
    const second = rejection(client.query({ prompt: 'p', model: 'gpt-4o' }, { signal: again.signal }))
    again.abort()
    assert.deepEqual([(await first).name, (await second).name], ['AbortError', 'AbortError'])
    await new Promise((r) => setImmediate(r)) // warnings are emitted on a later tick
    assert.deepEqual(warnings.filter((name) => name === 'MaxListenersExceededWarning'), [])
  } finally {
    process.off('warning', onWarning)
  }
})

test('a signal that is not an AbortSignal is an invalid request', async () => {
  await withOwnServer({ delayMs: 2000 }, async (quiet) => {
    const error = await rejection(quiet.client().query({ prompt: 'p', model: 'gpt-4o' }, { signal: 'stop' }))
    assert.ok(error instanceof VectorcacheInvalidRequestError, error.name)
    assert.equal(error.kind, 'invalid_request')
    assert.match(error.message, /`signal` must be an AbortSignal/)
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(quiet.stats.requests, 0, 'nothing sent')
  })
})

test('answers settle while another query still waits: none is held for the slow one', async () => {
  // The addon wakes this thread once per busy stretch of its runtime rather than per answer;
  // an answer must still settle as soon as the runtime has nothing left to run, not when the
  // last query outstanding ends.
  let slowSettled = false
  const waiting = slow.client().query({ prompt: 'slow', model: 'gpt-4o' })
  waiting.finally(() => (slowSettled = true)).catch(() => {})
  const fast = env.emulator.client()
  const started = performance.now()
  const together = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fast.query({ prompt: `fast ${i}`, model: 'gpt-4o' })))
  const oneByOne = []
  for (let i = 0; i < 5; i++) oneByOne.push(await fast.query({ prompt: `fast ${i}`, model: 'gpt-4o' }))
  const elapsed = performance.now() - started
  assert.deepEqual(together.map((a) => a.cache_hit), Array(20).fill(false))
  assert.deepEqual(oneByOne.map((a) => a.cache_hit), Array(5).fill(true))
  assert.equal(slowSettled, false, 'the fast answers came first')
  assert.ok(elapsed < 1000, `25 answers took ${elapsed.toFixed(0)} ms beside a query of 2 s`)
  assert.equal((await waiting).cache_hit, true)
})

test('one query at a time: answers, refusals and aborts each settle as their own, in order', async () => {
  // A task that answered this thread's last query waits a moment for the next one and runs
  // it itself: every kind of query must still settle, once, with its own outcome.
  const client = env.emulator.client()
  const outcomes = []
  for (let i = 0; i < 300; i++) {
    const kind = ['answer', 'refused', 'aborted'][i % 3]
    const controller = new AbortController()
    const request = { prompt: kind === 'refused' ? '   ' : `sequential ${i % 30}`, model: 'gpt-4o' }
    const pending = client.query(request, { signal: controller.signal })
    if (kind === 'aborted') controller.abort()
    outcomes.push(await pending.then((answer) => ['answer', typeof answer.response], (error) => [error.name, error.constructor.name]))
  }
  const expected = {
    answer: ['answer', 'string'],
    refused: ['VectorcacheInvalidRequestError', 'VectorcacheInvalidRequestError'],
    aborted: ['AbortError', 'DOMException'],
  }
  outcomes.forEach((outcome, i) => assert.deepEqual(outcome, expected[['answer', 'refused', 'aborted'][i % 3]], `query ${i}`))
  const answered = (await env.emulator.requests()).filter((r) => r.status === 200).length
  assert.ok(answered >= 100 && answered <= 200, `${answered} answered on the wire`)
})

test('a per-call timeout beats the client timeout', async () => {
  await withOwnServer({ delayMs: 2000 }, async (quiet) => {
    const started = performance.now()
    const error = await rejection(
      quiet.client({ timeout: 30_000 }).query({ prompt: 'p', model: 'gpt-4o' }, { timeout: 200 }),
    )
    const elapsed = performance.now() - started
    assert.ok(error instanceof VectorcacheTimeoutError, error.name)
    assert.equal(error.kind, 'timeout')
    assert.equal(error.attempts, 1)
    // It waited out the 200 ms (the request was at the server), not the 30 s or the 2 s answer.
    assert.equal(quiet.stats.requests, 1)
    assert.ok(elapsed >= 190 && elapsed < 1500, `${elapsed} ms`)
  })
})

test('totalTimeout bounds the whole call: 503 after 0.9 s, 1 s per attempt, 5 retries, 2.5 s', async () => {
  const down = await slowServer({ delayMs: 900, status: 503, body: '{"detail":"down"}' })
  try {
    const started = performance.now()
    const error = await rejection(
      down.client({ timeout: 1000, maxRetries: 5 }).query({ prompt: 'p', model: 'gpt-4o' }, { totalTimeout: 2500 }),
    )
    const elapsed = performance.now() - started
    console.log(`totalTimeout 2500 ms ended the call after ${elapsed.toFixed(0)} ms`)
    assert.ok(error instanceof VectorcacheTimeoutError, error.name)
    assert.match(error.message, /total timeout/)
    assert.ok(elapsed >= 2490 && elapsed < 3200, `${elapsed} ms`)
    // Attempts at 0 s and about 1 s get their 503 at 0.9 s and 1.9 s; one more may start before 2.5 s.
    // (A third attempt cut off at 2.5 s may not have reached the server.)
    assert.ok([2, 3].includes(error.attempts), `attempts ${error.attempts}`)
    assert.ok(down.stats.requests >= 2 && down.stats.requests <= error.attempts, `${down.stats.requests} requests`)
  } finally {
    await down.close()
  }
})

test("a client's totalTimeout ends a server wait that would overrun it at once", async () => {
  const { emulator } = env
  await emulator.fault({ status: 429, body: { detail: 'slow down' }, headers: { 'Retry-After': '5' }, count: 5 })
  const started = performance.now()
  const error = await rejection(emulator.client({ maxRetries: 3, totalTimeout: 2000 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheRateLimitError, error.name)
  assert.equal(error.retryAfter, 5)
  assert.ok(performance.now() - started < 1000)
  assert.equal((await emulator.requests()).length, 1)
})

test('per-call maxRetries, headers and projectId reach the wire', async () => {
  const { emulator } = env
  await emulator.fault({ status: 503, body: { detail: 'down' }, headers: { 'Retry-After': '0' }, count: 2 })
  const result = await emulator
    .client({ maxRetries: 0 })
    .query({ prompt: 'p', model: 'gpt-4o' }, { maxRetries: 2, headers: { 'X-Trace': 'abc' }, projectId: 'proj_default' })
  assert.equal(result.cache_hit, false)
  const sent = await emulator.requests()
  // The per-call maxRetries (2), not the client's (0): two retries, the second answered.
  assert.deepEqual(sent.map((r) => r.status), [503, 503, 200])
  for (const request of sent) {
    assert.equal(request.headers['x-trace'], 'abc')
    assert.equal(request.body.project_id, 'proj_default')
  }
})

test('bad per-call settings send nothing; bad client settings are configuration errors', async () => {
  const { emulator } = env
  for (const options of [
    { timeout: -1 },
    { timeout: 'soon' },
    { maxRetries: 1.5 },
    { totalTimeout: Number.NaN },
    { headers: { Authorization: 'Bearer x' } },
    { headers: { 'X-Ok': 5 } },
    { headers: 'x-trace: 1' },
  ]) {
    const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }, options))
    assert.ok(error instanceof VectorcacheInvalidRequestError, `${JSON.stringify(options)}: ${error.name} ${error.message}`)
  }
  assert.deepEqual(await emulator.requests(), [])
  for (const options of [{ maxConnections: 0 }, { maxConnections: 2.5 }, { totalTimeout: -1 }, { maxConnections: '10' }]) {
    assert.throws(() => emulator.client(options), VectorcacheConfigurationError, JSON.stringify(options))
  }
})

test('2,000 concurrent queries under a 1,024 open-file limit: no errors, at most maxConnections sockets', async () => {
  const server = await slowServer({ delayMs: 1000 })
  try {
    const maxConnections = 400
    const script = path.join(PROJECT, 'fd-limit-run.mjs')
    writeFileSync(
      script,
      `import { VectorcacheClient } from 'vectorcache'
const client = new VectorcacheClient({ apiKey: '${API_KEY}', baseUrl: '${server.url}', maxRetries: 0, maxConnections: ${maxConnections} })
const outcomes = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => client.query({ prompt: 'q' + i, model: 'gpt-4o' })))
const failed = outcomes.filter((o) => o.status === 'rejected')
console.log(JSON.stringify({ failed: failed.length, first: failed[0]?.reason?.message }))
`,
    )
    // Asynchronously: this process's event loop serves the queries meanwhile.
    const child = await new Promise((resolve) => {
      const proc = spawn('bash', ['-c', `ulimit -n 1024 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`], {
        cwd: PROJECT,
      })
      let out = ''
      proc.stdout.on('data', (d) => (out += d))
      proc.stderr.on('data', (d) => (out += d))
      proc.on('exit', (code) => resolve({ code, out }))
    })
    assert.equal(child.code, 0, child.out)
    const report = JSON.parse(child.out.trim().split('\n').pop())
    console.log(`2000 queries, ${report.failed} failed, at most ${server.stats.peakOpen} connections open at once`)
    assert.equal(report.failed, 0, report.first)
    assert.equal(server.stats.requests, 2000)
    assert.ok(server.stats.peakOpen <= maxConnections, `${server.stats.peakOpen} open at once`)
  } finally {
    await server.close()
  }
})
