// ESM loading: named imports (the documented form) and the default export.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import vectorcache, { VectorcacheClient, VectorcacheError, VectorcacheTimeoutError } from 'vectorcache'

test("import { VectorcacheClient } from 'vectorcache' works", () => {
  assert.equal(typeof VectorcacheClient, 'function')
  assert.equal(typeof VectorcacheTimeoutError, 'function')
  assert.equal(vectorcache.VectorcacheClient, VectorcacheClient)
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
})
