// Trust, proxies, secrets and strict input: a local HTTPS server whose CA is made at test
// time, a CONNECT proxy, a server echoing the key, and input that is not what it seems.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { inspect } from 'node:util'
import { after, before, test } from 'node:test'

import {
  VectorcacheAuthenticationError,
  VectorcacheCertificateError,
  VectorcacheClient,
  VectorcacheConfigurationError,
  VectorcacheInvalidRequestError,
  VectorcacheNetworkError,
  VectorcacheServerError,
} from 'vectorcache'

import { API_KEY, PROJECT, REPO, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const TAIL = API_KEY.slice(-24)
const HIT = JSON.stringify({ cache_hit: true, response: 'r', similarity_score: 0.9, cost_saved: 0.001, llm_provider: 'cache' })

let ca
let server
let serverUrl
let connections = 0

before(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vectorcache-ca-'))
  execFileSync('bash', [path.join(REPO, 'tests/fixtures/make-test-ca.sh'), dir])
  ca = {
    dir,
    pem: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    file: path.join(dir, 'ca.pem'),
  }
  server = https.createServer(
    { key: readFileSync(path.join(dir, 'server.key')), cert: readFileSync(path.join(dir, 'server.pem')) },
    (req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(HIT))
    },
  )
  server.on('connection', () => (connections += 1))
  server.on('tlsClientError', () => {})
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  serverUrl = `https://127.0.0.1:${server.address().port}`
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const client = (options = {}) => new VectorcacheClient({ apiKey: API_KEY, baseUrl: serverUrl, ...options })

test('an untrusted certificate fails once with VectorcacheCertificateError', async () => {
  const before = connections
  const error = await rejection(client({ maxRetries: 3 }).query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheCertificateError, error.name)
  assert.ok(error instanceof VectorcacheNetworkError)
  assert.equal(error.kind, 'certificate')
  assert.equal(error.attempts, 1)
  assert.match(error.message, /not trusted/)
  assert.match(error.message, /`ca` option/)
  assert.match(error.message, /NODE_EXTRA_CA_CERTS/)
  assert.equal(connections - before, 1, 'not retried')
})

test('the ca option trusts the private CA: PEM text, a Buffer, an array', async () => {
  for (const option of [ca.pem, Buffer.from(ca.pem), [Buffer.from(ca.pem)], [ca.pem]]) {
    const result = await client({ ca: option }).query({ prompt: 'p', model: 'gpt-4o' })
    assert.deepEqual({ ...result }, JSON.parse(HIT)) // the HTTPS server's answer
  }
  for (const bad of ['not a pem', 42, [42], { pem: ca.pem }]) {
    assert.throws(
      () => client({ ca: bad }),
      (e) =>
        e instanceof VectorcacheConfigurationError &&
        e.kind === 'invalid_config' &&
        /`ca` must be PEM text|a root certificate is not usable/.test(e.message),
      String(bad),
    )
  }
})

/** Runs a script in a fresh Node process of the test project; resolves with its output. */
function runScript(source, extraEnv) {
  const file = path.join(PROJECT, `script-${process.hrtime.bigint()}.mjs`)
  writeFileSync(file, source)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: PROJECT, env: { ...process.env, ...extraEnv } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

test('NODE_EXTRA_CA_CERTS trusts the private CA', async () => {
  const source = `import { VectorcacheClient } from 'vectorcache'
const client = new VectorcacheClient({ apiKey: '${API_KEY}', baseUrl: '${serverUrl}' })
const result = await client.query({ prompt: 'p', model: 'gpt-4o' })
console.log('hit=' + result.cache_hit)`
  const trusted = await runScript(source, { NODE_EXTRA_CA_CERTS: ca.file })
  assert.equal(trusted.code, 0, trusted.out)
  assert.match(trusted.out, /hit=true/)
  const untrusted = await runScript(source, { NODE_EXTRA_CA_CERTS: '' })
  assert.notEqual(untrusted.code, 0)
  assert.match(untrusted.out, /VectorcacheCertificateError/)
})

/** A CONNECT proxy on loopback that records each request head, then tunnels. */
async function connectProxy() {
  const heads = []
  const proxy = net.createServer((socket) => {
    let head = ''
    const onData = (chunk) => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      heads.push(head)
      const [host, port] = head.split(' ')[1].split(':')
      const upstream = net.connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        socket.pipe(upstream).pipe(socket)
      })
      upstream.on('error', () => socket.destroy())
      socket.on('error', () => upstream.destroy())
    }
    socket.on('data', onData)
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return { heads, port: proxy.address().port, close: () => proxy.close() }
}

test('the proxy option tunnels through a CONNECT proxy with its credentials, never shown', async () => {
  const proxy = await connectProxy()
  try {
    const c = client({ ca: ca.pem, proxy: `http://alice:hunter2@127.0.0.1:${proxy.port}` })
    assert.equal((await c.query({ prompt: 'p', model: 'gpt-4o' })).cache_hit, true)
    assert.equal(proxy.heads.length, 1)
    assert.ok(proxy.heads[0].startsWith(`CONNECT ${serverUrl.slice('https://'.length)} HTTP/1.1`), proxy.heads[0])
    assert.ok(proxy.heads[0].includes(`Basic ${Buffer.from('alice:hunter2').toString('base64')}`))
    assert.ok(!proxy.heads[0].includes(API_KEY))
    for (const shown of [inspect(c), JSON.stringify(c)]) assert.ok(!shown.includes('hunter2'), shown)
  } finally {
    proxy.close()
  }
  const error = await rejection(
    new VectorcacheClient({ apiKey: API_KEY, baseUrl: 'https://127.0.0.1:9', maxRetries: 0, proxy: 'http://alice:hunter2@127.0.0.1:1' })
      .query({ prompt: 'p', model: 'gpt-4o' }),
  )
  assert.ok(error instanceof VectorcacheNetworkError, error.name)
  for (const shown of [inspect(error), JSON.stringify(error), error.message, String(error.cause)]) {
    assert.ok(!shown.includes('hunter2'), shown)
  }
  assert.throws(
    () => new VectorcacheClient({ apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9', proxy: 'http://alice:hunter2@127.0.0.1:1' }),
    (e) => e instanceof VectorcacheConfigurationError && !e.message.includes('hunter2'),
  )
})

test('a proxy that wants credentials is said plainly and not retried', async () => {
  const tunnels = []
  const proxy = net.createServer((socket) => {
    socket.once('data', (head) => {
      tunnels.push(head.toString())
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n')
    })
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  try {
    const error = await rejection(
      new VectorcacheClient({ apiKey: API_KEY, baseUrl: 'https://api.example.com', maxRetries: 2, proxy: `http://127.0.0.1:${proxy.address().port}` })
        .query({ prompt: 'p', model: 'gpt-4o' }),
    )
    assert.ok(error instanceof VectorcacheNetworkError, error.name)
    assert.equal(error.kind, 'connection')
    assert.equal(error.attempts, 1)
    assert.match(error.message, /407 Proxy Authentication Required/)
    assert.match(error.message, /http:\/\/user:password@host:port/)
    assert.equal(tunnels.length, 1, 'no retry: the next attempt would have no credentials either')
  } finally {
    proxy.close()
  }
})

/** Everything a Node program might print, log or serialise of an error. */
function everythingAbout(error) {
  return [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error), error.message, error.stack,
    JSON.stringify(error.headers), JSON.stringify(error.response), String(error.body), String(error.detail)].join('\n')
}

test('a key echoed in headers and body appears nowhere', async () => {
  const { emulator } = env
  await emulator.fault({
    status: 401,
    body: { detail: `Invalid key ${API_KEY}`, echo: API_KEY },
    headers: {
      'WWW-Authenticate': `Bearer error="invalid_token", token="${API_KEY}"`,
      'X-Debug-Authorization': `Bearer ${API_KEY}`,
      'X-Partial': API_KEY.slice(8, 30),
    },
  })
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheAuthenticationError)
  assert.equal(error.headers['www-authenticate'], 'Bearer error="invalid_token", token="[redacted]"')
  // The echoed values are still there, with the key cut out (not dropped wholesale).
  assert.equal(error.detail, 'Invalid key [redacted]')
  assert.deepEqual(JSON.parse(error.body), { detail: 'Invalid key [redacted]', echo: '[redacted]' })
  assert.equal(error.headers['x-debug-authorization'], 'Bearer [redacted]')
  const shown = everythingAbout(error)
  assert.ok(!shown.includes(TAIL), shown)
  assert.ok(!shown.includes(API_KEY.slice(8, 30)))
})

test('a key across the body limit appears nowhere', async () => {
  const { emulator } = env
  const limit = 64 * 1024
  for (const offset of [10, 20, 30]) {
    await emulator.fault({ status: 500, body: 'x'.repeat(limit - offset) + API_KEY + 'y'.repeat(100) })
    const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }))
    assert.ok(error instanceof VectorcacheServerError)
    // The body is kept up to the limit, the part of the key inside it redacted.
    assert.ok(error.body.startsWith('x'.repeat(limit - offset)), `offset ${offset}`)
    assert.ok(error.body.includes('[redacted]'), `offset ${offset}: ${error.body.slice(limit - offset - 10)}`)
    const shown = everythingAbout(error)
    assert.ok(!shown.includes(TAIL) && !shown.includes(API_KEY.slice(0, 8)), `offset ${offset}`)
  }
})

test('a lone surrogate is refused, naming the field, and nothing is sent', async () => {
  const { emulator } = env
  for (const [request, field] of [
    [{ prompt: 'bad \ud800 text', model: 'gpt-4o' }, 'prompt'],
    [{ prompt: 'p', model: 'gpt\udc00' }, 'model'],
    [{ prompt: 'p', model: 'gpt-4o', context: '\ud83d' }, 'context'],
    [{ prompt: 'p', model: 'gpt-4o', projectId: 'x\ud800' }, 'projectId'],
  ]) {
    const error = await rejection(emulator.client().query(request))
    assert.ok(error instanceof VectorcacheInvalidRequestError, error.name)
    assert.match(error.message, new RegExp(`\`${field}\`.*surrogate`))
  }
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }, { headers: { 'x-a': '\ud800' } }))
  assert.ok(error instanceof VectorcacheInvalidRequestError, error.name)
  // A properly paired surrogate (an emoji) is fine.
  const result = await emulator.client().query({ prompt: 'what is 🚀?', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  assert.equal((await emulator.requests()).length, 1)
  assert.equal((await emulator.requests())[0].body.prompt, 'what is 🚀?')
  assert.throws(() => emulator.client({ apiKey: 'vc_\ud800' }), VectorcacheConfigurationError)
  assert.throws(() => emulator.client({ baseUrl: 'http://127.0.0.1:9/\ud800' }), /surrogate/)
})

test('unknown keys are refused with the nearest known one', async () => {
  const { emulator } = env
  const cases = [
    [{ prompt: 'p', model: 'gpt-4o', similarityTreshold: 0.9 }, /unknown query field `similarityTreshold`; did you mean `similarityThreshold`\?/],
    [{ prompt: 'p', model: 'gpt-4o', temperature: 0.2 }, /unknown query field `temperature`/],
  ]
  for (const [request, message] of cases) {
    const error = await rejection(emulator.client().query(request))
    assert.ok(error instanceof VectorcacheInvalidRequestError, error.name)
    assert.match(error.message, message)
  }
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }, { max_retries: 1 }))
  assert.match(error.message, /unknown query option `max_retries`; did you mean `maxRetries`\?/)
  assert.throws(() => emulator.client({ base_url: emulator.url }), /unknown client option `base_url`; did you mean `baseUrl`\?/)
  assert.throws(() => emulator.client({ maxRetry: 1 }), (e) => e instanceof VectorcacheConfigurationError && /`maxRetries`/.test(e.message))
  assert.deepEqual(await emulator.requests(), [])
})

test('the spellings the docs use are aliases; both at once is an error', async () => {
  const { emulator } = env
  // guides/error-handling writes `baseURL` and the wire's `similarity_threshold`.
  const docs = new VectorcacheClient({ apiKey: API_KEY, baseURL: emulator.url })
  await docs.query({ prompt: 'What is AI?', model: 'gpt-4o', similarity_threshold: 0.9, include_debug: true, project_id: 'proj_default' })
  const sent = (await emulator.requests())[0].body
  assert.equal(sent.similarity_threshold, 0.9)
  assert.equal(sent.include_debug, true)
  assert.equal(sent.project_id, 'proj_default')
  assert.throws(() => new VectorcacheClient({ apiKey: API_KEY, baseURL: emulator.url, baseUrl: emulator.url }), /not both/)
  const error = await rejection(docs.query({ prompt: 'p', model: 'gpt-4o', similarity_threshold: 0.9, similarityThreshold: 0.8 }))
  assert.ok(error instanceof VectorcacheInvalidRequestError)
  assert.match(error.message, /not both/)
})
