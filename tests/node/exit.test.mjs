// The addon keeps no handle alive: a script that has finished its queries exits on its own.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { runNode } from './helpers/child.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

const SCRIPT = `
import { VectorcacheClient, VectorcacheError } from 'vectorcache'
const client = new VectorcacheClient()
const results = await Promise.all([1, 2, 3].map((i) => client.query({ prompt: 'exit test ' + i, model: 'gpt-4o' })))
console.log('done', results.length)
try {
  await new VectorcacheClient({ apiKey: 'vc_ffffffffffffffffffffffffffffffff' }).query({ prompt: 'p', model: 'gpt-4o' })
} catch (e) {
  console.log('rejected', e instanceof VectorcacheError, e.statusCode)
}
`

test('a script exits by itself once its queries are done', async () => {
  const { code, stdout, stderr, elapsedMs } = await runNode(['--input-type=module', '-e', SCRIPT], {
    env: env.emulator.env(),
    timeoutMs: 20_000,
  })
  assert.equal(code, 0, stderr)
  assert.match(stdout, /done 3/)
  assert.match(stdout, /rejected true 401/)
  assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`)
  // The queries really went out and were answered before the process ended.
  const log = await env.emulator.requests()
  assert.deepEqual(log.map((r) => r.status).sort(), [200, 200, 200, 401])
})

test('a client that is never used does not hold the process', async () => {
  const script = `const { VectorcacheClient } = require('vectorcache'); new VectorcacheClient(); console.log('made')`
  const { code, stdout, elapsedMs } = await runNode(['-e', script], { env: env.emulator.env(), timeoutMs: 20_000 })
  assert.equal(code, 0)
  assert.match(stdout, /made/)
  assert.ok(elapsedMs < 10_000, `took ${elapsedMs} ms`)
})

// What both scripts below start their workers from: WORKER (an ES module's source) written to
// a file in the project, where 'vectorcache' resolves. Node 18 runs a worker's eval'd source
// as CommonJS, whatever --input-type says; and the workers must not inherit that flag
// (`execArgv: []`), which Node refuses beside a file.
const WRITE_WORKER_FILE = `
const WORKER_FILE = join(process.cwd(), 'worker-' + process.pid + '.mjs')
writeFileSync(WORKER_FILE, WORKER)
process.on('exit', () => rmSync(WORKER_FILE, { force: true }))
`

// Each JavaScript thread settles its own queries' promises (the addon keeps one delivery per
// thread). A worker's queries are answered there, beside the main thread's; a worker ended
// while its query is still out takes nothing down when the answer comes back afterwards.
const WORKERS_SCRIPT = `
import { rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { VectorcacheClient } from 'vectorcache'

const WORKER = \`
import { parentPort, workerData } from 'node:worker_threads'
import { VectorcacheClient } from 'vectorcache'
const client = new VectorcacheClient({ baseUrl: workerData.url })
parentPort.postMessage('started')
Promise.all([1, 2, 3].map((i) => client.query({ prompt: workerData.prompt + ' ' + i, model: 'gpt-4o' })))
  .then((answers) => parentPort.postMessage(answers.map((a) => a.cache_hit)))
\`
${WRITE_WORKER_FILE}const client = new VectorcacheClient()
const url = process.env.VECTORCACHE_BASE_URL

const worker = new Worker(WORKER_FILE, { execArgv: [], workerData: { url, prompt: 'from the worker' } })
const answered = new Promise((resolve, reject) => {
  worker.on('message', (m) => Array.isArray(m) && resolve(m))
  worker.once('error', reject)
})
const mine = await Promise.all([1, 2, 3].map((i) => client.query({ prompt: 'from main ' + i, model: 'gpt-4o' })))
console.log('worker', (await answered).length, 'main', mine.length)
await worker.terminate()

let asked
const seen = new Promise((resolve) => (asked = resolve))
let answers = 0
const slow = http.createServer((req, res) => {
  req.resume()
  asked()
  setTimeout(() => {
    answers += 1
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ cache_hit: true, response: 'r', similarity_score: 0.9, cost_saved: 0.001, llm_provider: 'cache' }))
  }, 300)
})
await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve))
const ended = new Worker(WORKER_FILE, { execArgv: [], workerData: { url: 'http://127.0.0.1:' + slow.address().port, prompt: 'cut off' } })
await seen
await ended.terminate()
await new Promise((resolve) => setTimeout(resolve, 800))
const after = await client.query({ prompt: 'after the worker', model: 'gpt-4o' })
console.log('answered after the worker ended', answers, typeof after.cache_hit)
slow.close()
`

test('worker threads get their own answers, and one ended mid-query takes nothing down', async () => {
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', WORKERS_SCRIPT], {
    env: env.emulator.env(),
    timeoutMs: 30_000,
  })
  assert.equal(code, 0, stderr)
  assert.match(stdout, /worker 3 main 3/)
  // The slow server answered what reached it of the ended worker's queries (the worker is
  // ended once the first arrives), after it was gone.
  assert.match(stdout, /answered after the worker ended [1-3] boolean/)
  const prompts = (await env.emulator.requests()).map((r) => r.body.prompt).sort()
  const expected = ['after the worker']
  for (const i of [1, 2, 3]) expected.push(`from main ${i}`, `from the worker ${i}`)
  assert.deepEqual(prompts, expected.sort())
})

// The addon's allocator keeps per-thread state. When the thread that first loaded the addon
// was a worker, and it ended, the next thread to load it crashed (mimalloc v3, a segfault in
// its thread set-up): what vitest's `threads` pool does with a test file per worker.
const WORKERS_ONLY_SCRIPT = `
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

const WORKER = \`
import { parentPort, workerData } from 'node:worker_threads'
import { VectorcacheClient } from 'vectorcache'
const answer = await new VectorcacheClient().query({ prompt: 'worker ' + workerData, model: 'gpt-4o' })
parentPort.postMessage(answer.cache_hit)
\`
${WRITE_WORKER_FILE}const run = (name) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, { execArgv: [], workerData: name })
    let answered
    worker.on('message', (hit) => (answered = typeof hit))
    worker.once('error', reject)
    worker.once('exit', (code) => resolve(code + ' ' + answered))
  })
// One after the other (the first loader gone before the next loads), then four at once.
const ends = [await run('a'), await run('b')]
ends.push(...(await Promise.all(['c', 'd', 'e', 'f'].map(run))))
ends.push(await run('g'))
console.log(ends.join(','))
`

test('a package loaded only by worker threads, each ending before the next loads it, works in each', async () => {
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', WORKERS_ONLY_SCRIPT], {
    env: env.emulator.env(),
    timeoutMs: 30_000,
  })
  assert.equal(code, 0, `exit ${code}: ${stderr}`)
  assert.equal(stdout.trim(), Array(7).fill('0 boolean').join(','))
  const prompts = (await env.emulator.requests()).map((r) => r.body.prompt).sort()
  assert.deepEqual(prompts, ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => 'worker ' + n))
})

// What async hooks see of the addon's one delivery per thread says, like a socket's, whether
// it holds the event loop: jest's --detectOpenHandles asks `hasRef()`, and reported it as
// left open after any query when it could not.
const HAS_REF_SCRIPT = `
const { createHook } = require('node:async_hooks')
const { VectorcacheClient } = require('vectorcache')
const seen = []
createHook({ init(id, type, trigger, resource) { if (type === 'vectorcache.delivery') seen.push(resource) } }).enable()
;(async () => {
  const client = new VectorcacheClient()
  const pending = client.query({ prompt: 'has ref', model: 'gpt-4o' })
  const during = seen.map((r) => r.hasRef())
  await pending
  await client.query({ prompt: 'has ref', model: 'gpt-4o' })
  console.log(seen.length, during.join(), seen[0].hasRef())
})()
`

test("the delivery's async resource says whether it holds the event loop", async () => {
  const { code, stdout, stderr } = await runNode(['-e', HAS_REF_SCRIPT], { env: env.emulator.env(), timeoutMs: 20_000 })
  assert.equal(code, 0, stderr)
  // One resource for the thread, held while a query is pending, let go once none is.
  assert.equal(stdout.trim(), '1 true false')
})
