// ESM loading: named imports (the documented form) and the default export.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import DefaultClient, { VectorcacheClient, VectorcacheError, VectorcacheTimeoutError } from 'vectorcache'

test("import { VectorcacheClient } from 'vectorcache' works, and the default export is the client", () => {
  assert.equal(typeof VectorcacheClient, 'function')
  assert.equal(typeof VectorcacheTimeoutError, 'function')
  // As in the earlier npm package: `import VectorcacheClient from 'vectorcache'`.
  assert.equal(DefaultClient, VectorcacheClient)
})

test('errors thrown through the ESM entry are instanceof the ESM classes and the CJS ones', () => {
  const require = createRequire(import.meta.url)
  const cjs = require('vectorcache')
  let error
  try {
    new VectorcacheClient({ apiKey: 'nope' })
  } catch (e) {
    error = e
  }
  assert.ok(error instanceof VectorcacheError)
  assert.ok(error instanceof cjs.VectorcacheConfigurationError)
  assert.equal(error.kind, 'invalid_api_key')
})
