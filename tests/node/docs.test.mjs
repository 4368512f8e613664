// The documentation's own snippets (tests/node/doc-snippets) and the Node quick start
// (examples/node/quickstart.mjs), run unchanged as separate processes against the emulator.
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { copyIntoProject, runNode } from './helpers/child.mjs'
import { OTHER_KEY, REPO } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const SNIPPETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'doc-snippets')
const snippet = (name) => path.join(SNIPPETS, name)

test('doc quick start: a miss, then a hit', async () => {
  const first = await runNode([snippet('quickstart.mjs')], { env: env.emulator.env() })
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /Cache miss/)
  const second = await runNode([snippet('quickstart.mjs')], { env: env.emulator.env() })
  assert.equal(second.code, 0, second.stderr)
  assert.match(second.stdout, /Cache hit!\nSimilarity: 1\nCost saved: \$0\.\d+/)
  const log = await env.emulator.requests()
  assert.deepEqual(log.map((r) => [r.status, r.body.similarity_threshold]), [[200, 0.85], [200, 0.85]])
})

test('doc error handling: the switch on statusCode reaches 401, 403 and 429', async () => {
  const { emulator } = env
  const run = async (extraEnv) => {
    const { code, stderr } = await runNode([snippet('error-handling.mjs')], { env: emulator.env(extraEnv) })
    assert.equal(code, 0, stderr)
    return stderr
  }
  assert.match(await run({ VECTORCACHE_API_KEY: OTHER_KEY }), /^Invalid API key\. Check VECTORCACHE_API_KEY\./)

  await emulator.fault({ status: 403, body: { detail: 'API key does not have permission to access this project' } })
  assert.match(await run(), /^Access denied: this key cannot access the project\./)

  const reset = String(Math.floor(Date.now() / 1000) + 3600)
  await emulator.fault({ status: 429, body: { detail: 'Rate limit exceeded. Please try again later.' },
    headers: { 'X-RateLimit-Reset': reset, 'X-RateLimit-Remaining': '0', 'X-RateLimit-Limit': '100' } })
  assert.match(await run(), new RegExp(`^Rate limited\\. Resets at ${reset}`))
  // One request per run, each answered as set up (the 429's wait is past the client's cap).
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [401, 403, 429])
})

test('doc guide: baseURL and similarity_threshold, unchanged, reach the server', async () => {
  const { emulator } = env
  const ok = await runNode([snippet('error-handling-guide.mjs')], { env: emulator.env() })
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /Cache miss/)
  const sent = await emulator.requests()
  assert.equal(sent.length, 1)
  assert.equal(sent[0].body.similarity_threshold, 0.9)

  // A wait past the client's 60 s cap ends the call at once with the 429.
  await emulator.fault({ status: 429, body: { detail: 'slow down' }, headers: { 'Retry-After': '120' } })
  const limited = await runNode([snippet('error-handling-guide.mjs')], { env: emulator.env() })
  assert.equal(limited.code, 1)
  assert.match(limited.stderr, /Rate limited; retry after 120/)
  assert.deepEqual((await emulator.requests()).map((r) => r.status), [200, 429])
})

test('doc retry loop: waits until X-RateLimit-Reset, then succeeds', async () => {
  const { emulator } = env
  // More 429s than the client's own retries (2), so the snippet's loop sees one and waits.
  const resetAt = Math.floor(Date.now() / 1000) + 2
  const limited = { status: 429, body: { detail: 'Rate limit exceeded. Please try again later.' },
    headers: { 'X-RateLimit-Reset': String(resetAt) } }
  await emulator.fault(limited, limited, limited)
  const { code, stdout, stderr } = await runNode([snippet('retry-with-backoff.mjs')], { env: emulator.env() })
  assert.equal(code, 0, stderr)
  assert.match(stdout, /Rate limited\. Waiting \d+ms before retrying/)
  assert.match(stdout, /Cache hit: false/)
  const log = await emulator.requests()
  assert.deepEqual(log.map((r) => r.status), [429, 429, 429, 200])
  assert.ok(Date.now() >= resetAt * 1000 - 50)
})

test('examples/node/quickstart.mjs: a miss then a hit', async () => {
  const example = copyIntoProject(path.join(REPO, 'examples/node/quickstart.mjs'))
  const { code, stdout, stderr } = await runNode([example], { env: env.emulator.env() })
  assert.equal(code, 0, stderr)
  assert.match(stdout, /^MISS provider=openai\n.*\nHIT {2}similarity=1 saved=\$0\.\d+/s)
})

test('examples/node/quickstart.mjs reports a typed error and exits 1', async () => {
  const example = copyIntoProject(path.join(REPO, 'examples/node/quickstart.mjs'))
  const { code, stderr } = await runNode([example], { env: env.emulator.env({ VECTORCACHE_API_KEY: OTHER_KEY }) })
  assert.equal(code, 1)
  assert.match(stderr, /VectorcacheAuthenticationError \(authentication, HTTP 401\)/)
  assert.deepEqual((await env.emulator.requests()).map((r) => [r.status, r.headers.authorization]), [[401, 'Bearer vc_ffff…']])
})
