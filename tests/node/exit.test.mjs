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
