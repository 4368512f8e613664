// The key never shows: not in util.inspect, JSON.stringify, own properties or error messages.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { test } from 'node:test'

import { VectorcacheAuthenticationError, VectorcacheClient, VectorcacheConfigurationError } from 'vectorcache'

import { API_KEY, rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()
const SECRET_PART = API_KEY.slice(7) // everything after the shown `vc_0123`

test('util.inspect and JSON.stringify show only the redacted key', () => {
  const client = env.emulator.client({ projectId: 'proj_default' })
  for (const text of [
    inspect(client),
    inspect(client, { showHidden: true, depth: Infinity, getters: true }),
    inspect({ nested: [client] }),
    JSON.stringify(client),
    JSON.stringify({ client }),
  ]) {
    // Each view shows the key, redacted (so the check below is not passed by an empty text).
    assert.ok(text.includes('vc_0123…'), text)
    assert.ok(!text.includes(SECRET_PART), text)
  }
  assert.equal(String(Object.entries(client)), '')
  assert.match(inspect(client), /VectorcacheClient/)
  assert.match(inspect(client), /vc_0123…/)
  assert.deepEqual(JSON.parse(JSON.stringify(client)), {
    apiKey: 'vc_0123…',
    baseUrl: `${env.emulator.url}/`,
    timeout: 30000,
    maxRetries: 0,
    projectId: 'proj_default',
  })
  assert.deepEqual(Object.getOwnPropertyNames(client), [])
})

test('errors never repeat the key', async () => {
  const almost = `${API_KEY}0` // one character too long, otherwise a real key
  const error = (() => {
    try {
      new VectorcacheClient({ apiKey: almost })
    } catch (e) {
      return e
    }
  })()
  assert.ok(error instanceof VectorcacheConfigurationError, String(error))
  assert.equal(error.kind, 'invalid_api_key')
  assert.match(inspect(error), /invalid API key: the key is too long/)
  assert.ok(!inspect(error).includes(SECRET_PART))
  assert.ok(!inspect(error).includes(almost))

  const client = env.emulator.client()
  assert.throws(
    () => client.setApiKey(` ${API_KEY}`),
    (e) =>
      e instanceof VectorcacheConfigurationError &&
      e.kind === 'invalid_api_key' &&
      /the key contains whitespace/.test(inspect(e)) &&
      !inspect(e).includes(SECRET_PART),
  )

  await env.emulator.fault({ status: 401, body: { detail: 'Invalid API key' } })
  const httpError = await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(httpError instanceof VectorcacheAuthenticationError, String(httpError))
  const shown = inspect(httpError, { depth: Infinity })
  assert.match(shown, /401 Unauthorized: Invalid API key/)
  assert.ok(!shown.includes(SECRET_PART))
  // The rejected setApiKey left the key as it was: the query went with it.
  assert.deepEqual((await env.emulator.requests()).map((r) => r.headers.authorization), ['Bearer vc_0123…'])
})

test('a key given as a name is not quoted back', async () => {
  const client = env.emulator.client()
  const swapped = { [`Bearer ${API_KEY}`]: 'Authorization' } // name and value swapped
  const refusals = [
    await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }, { headers: swapped })),
    await rejection(client.query({ prompt: 'p', model: 'gpt-4o', [API_KEY]: 1 })),
    await rejection(client.query({ prompt: 'p', model: 'gpt-4o' }, { [API_KEY]: 1 })),
    ...(await client.queryMany([{ prompt: 'p', model: 'gpt-4o', headers: swapped }])).map((o) => o.error),
    (() => {
      try {
        return new VectorcacheClient({ apiKey: API_KEY, [API_KEY]: 1 })
      } catch (e) {
        return e
      }
    })(),
  ]
  assert.match(refusals[0].message, /"Bearer \[redacted\]"/)
  assert.match(refusals[1].message, /`\[redacted\]`/)
  for (const error of refusals) {
    assert.ok(error instanceof Error, String(error))
    for (const shown of [error.message, inspect(error, { depth: Infinity }), String(error.stack)]) {
      assert.ok(!shown.includes(SECRET_PART), shown)
    }
  }
  assert.deepEqual(await env.emulator.requests(), [])
})
