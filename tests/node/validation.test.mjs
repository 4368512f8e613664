// Local problems are refused before anything is sent: the request log stays empty.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  VectorcacheAPIError,
  VectorcacheConfigurationError,
  VectorcacheError,
  VectorcacheInvalidRequestError,
  VectorcacheValidationError,
} from 'vectorcache'

import { rejection } from './helpers/emulator.mjs'
import { useEmulator } from './helpers/setup.mjs'

const env = useEmulator()

const BAD_REQUESTS = [
  ['blank prompt', { prompt: '   ', model: 'gpt-4o' }, /prompt/],
  ['missing prompt', { model: 'gpt-4o' }, /prompt/],
  ['missing model', { prompt: 'p' }, /model/],
  ['threshold above 1', { prompt: 'p', model: 'gpt-4o', similarityThreshold: 1.5 }, /^invalid request: `similarityThreshold` must be a number between 0 and 1, got 1.5$/],
  ['negative threshold', { prompt: 'p', model: 'gpt-4o', similarityThreshold: -0.1 }, /`similarityThreshold`/],
  ['NaN threshold', { prompt: 'p', model: 'gpt-4o', similarityThreshold: NaN }, /`similarityThreshold`/],
  ['prompt of the wrong type', { prompt: 42, model: 'gpt-4o' }, /`prompt` must be a string, got number/],
  ['threshold of the wrong type', { prompt: 'p', model: 'gpt-4o', similarityThreshold: '0.9' }, /similarityThreshold/],
  ['includeDebug of the wrong type', { prompt: 'p', model: 'gpt-4o', includeDebug: 'yes' }, /includeDebug/],
  ['blank project', { prompt: 'p', model: 'gpt-4o', projectId: ' ' }, /^invalid request: `projectId` must not be empty or blank when given$/],
  ['not an object', 'What is AI?', /must be an object/],
  ['nothing', undefined, /must be an object/],
]

for (const [name, request, message] of BAD_REQUESTS) {
  test(`query refuses ${name} without sending`, async () => {
    const { emulator } = env
    const error = await rejection(emulator.client().query(request))
    assert.ok(error instanceof VectorcacheInvalidRequestError, error.name)
    assert.ok(error instanceof VectorcacheError)
    // A local mistake is never an API error: nothing reached the service.
    assert.ok(!(error instanceof VectorcacheAPIError))
    assert.equal(error.kind, 'invalid_request')
    assert.equal(error.statusCode, undefined)
    assert.equal(error.response, undefined)
    assert.match(error.message, message)
    assert.deepEqual(await emulator.requests(), [])
  })
}

test('a server 400 is a VectorcacheValidationError with a statusCode (the emulator validates too)', async () => {
  const { emulator } = env
  await emulator.fault({ status: 400, body: { detail: 'Invalid JSON format' } })
  const error = await rejection(emulator.client().query({ prompt: 'p', model: 'gpt-4o' }))
  assert.ok(error instanceof VectorcacheValidationError)
  assert.ok(error instanceof VectorcacheAPIError)
  assert.equal(error.statusCode, 400)
  assert.equal(error.kind, 'bad_request')
  assert.equal(error.detail, 'Invalid JSON format')
  assert.equal(error.attempts, 1)
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.fault]), [[400, true]])
})

test('bad options throw synchronously from the constructor, nothing sent', async () => {
  const { emulator } = env
  const cases = [
    [{ timeout: -1 }, 'invalid_config', /timeout/],
    [{ timeout: 0 }, 'invalid_config', /timeout/],
    [{ timeout: 'soon' }, 'invalid_config', /`timeout` must be a number, got string/],
    [{ timeout: -5 }, 'invalid_config', /`timeout` must be a number of milliseconds from 0 to 1e12 \(about 31 years\), got -5/],
    [{ maxRetries: -1 }, 'invalid_config', /`maxRetries` must be a whole number from 0 to 100, got -1/],
    [{ maxRetries: 1.5 }, 'invalid_config', /maxRetries/],
    [{ maxRetries: 1000 }, 'invalid_config', /maxRetries/],
    [{ baseUrl: 'http://api.vectorcache.ai' }, 'invalid_config', /https/],
    [{ baseUrl: 'not a url' }, 'invalid_config', /base URL/],
    [{ projectId: '' }, 'invalid_config', /^invalid configuration: `projectId` must not be empty or blank$/],
    [{ totalTimeout: 0 }, 'invalid_config', /^invalid configuration: `totalTimeout` must be greater than zero$/],
    [{ apiKey: 'sk-123' }, 'invalid_api_key', /vc_/],
    [{ apiKey: 12345 }, 'invalid_config', /`apiKey` must be a string, got number/],
  ]
  for (const [overrides, kind, message] of cases) {
    let error
    assert.throws(() => emulator.client(overrides), (e) => ((error = e), true))
    assert.ok(error instanceof VectorcacheConfigurationError, `${JSON.stringify(overrides)}: ${error.name}`)
    assert.ok(!(error instanceof VectorcacheAPIError), JSON.stringify(overrides))
    assert.equal(error.kind, kind, JSON.stringify(overrides))
    assert.equal(error.statusCode, undefined)
    assert.equal(error.attempts, undefined)
    assert.match(error.message, message)
  }
  assert.throws(() => new (emulator.client().constructor)(42), VectorcacheConfigurationError)
  // A BigInt is named as one (JSON.stringify, above, cannot show it).
  assert.throws(() => emulator.client({ maxRetries: 1n }), /`maxRetries` must be a number, got bigint/)
  assert.deepEqual(await emulator.requests(), [])
})

test('setApiKey refuses a malformed key with a typed error and keeps the old one', async () => {
  const { emulator } = env
  const client = emulator.client()
  for (const bad of ['vc_short', 'vc_0123456789abcdef0123456789abcdef\n', 42, undefined]) {
    assert.throws(() => client.setApiKey(bad), (e) => e instanceof VectorcacheConfigurationError && e.kind === 'invalid_api_key')
  }
  const result = await client.query({ prompt: 'p', model: 'gpt-4o' })
  assert.equal(result.cache_hit, false)
  assert.equal(client.toJSON().apiKey, 'vc_0123…')
  assert.deepEqual((await emulator.requests()).map((r) => [r.status, r.headers.authorization]), [[200, 'Bearer vc_0123…']])
})
