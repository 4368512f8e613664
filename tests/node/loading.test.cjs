// CommonJS loading, and that the suite tests the INSTALLED package (run.sh installs the packed
// tarball into a temp project and points VECTORCACHE_TEST_PROJECT at it).
const assert = require('node:assert/strict')
const { existsSync, readdirSync, realpathSync } = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const EXPORTED_CLASSES = [
  'VectorcacheClient',
  'VectorcacheError',
  'VectorcacheAPIError',
  'VectorcacheValidationError',
  'VectorcacheInvalidRequestError',
  'VectorcacheConfigurationError',
  'VectorcacheAuthenticationError',
  'VectorcachePermissionError',
  'VectorcacheNotFoundError',
  'VectorcacheRateLimitError',
  'VectorcacheServerError',
  'VectorcacheResponseValidationError',
  'VectorcacheNetworkError',
  'VectorcacheTimeoutError',
]

test("require('vectorcache') gives the client and every error class", () => {
  const vectorcache = require('vectorcache')
  for (const name of EXPORTED_CLASSES) assert.equal(typeof vectorcache[name], 'function', name)
  assert.equal(vectorcache.VERSION, require('vectorcache/package.json').version)
})

test('the class hierarchy the docs rely on', () => {
  const v = require('vectorcache')
  const chain = [
    [v.VectorcacheAPIError, v.VectorcacheError],
    [v.VectorcacheValidationError, v.VectorcacheAPIError],
    [v.VectorcacheInvalidRequestError, v.VectorcacheError],
    [v.VectorcacheConfigurationError, v.VectorcacheError],
    [v.VectorcacheAuthenticationError, v.VectorcacheAPIError],
    [v.VectorcachePermissionError, v.VectorcacheAPIError],
    [v.VectorcacheNotFoundError, v.VectorcacheAPIError],
    [v.VectorcacheRateLimitError, v.VectorcacheAPIError],
    [v.VectorcacheServerError, v.VectorcacheAPIError],
    [v.VectorcacheResponseValidationError, v.VectorcacheAPIError],
    [v.VectorcacheNetworkError, v.VectorcacheAPIError],
    [v.VectorcacheTimeoutError, v.VectorcacheNetworkError],
    [v.VectorcacheError, Error],
  ]
  for (const [Sub, Base] of chain) assert.ok(Sub.prototype instanceof Base, `${Sub.name} extends ${Base.name}`)
})

test('require and import share one set of classes', async () => {
  const required = require('vectorcache')
  const imported = await import('vectorcache')
  assert.equal(imported.VectorcacheClient, required.VectorcacheClient)
  assert.equal(imported.VectorcacheError, required.VectorcacheError)
  assert.equal(imported.default, required.VectorcacheClient)
  assert.equal(required.default, required.VectorcacheClient)
})

test('the package resolves to the installed copy in the temp project', (t) => {
  const project = process.env.VECTORCACHE_TEST_PROJECT
  if (!project) {
    t.skip('VECTORCACHE_TEST_PROJECT not set (run through tests/node/run.sh)')
    return
  }
  const installed = path.join(realpathSync(project), 'node_modules', 'vectorcache') + path.sep
  const resolved = require.resolve('vectorcache')
  assert.ok(resolved.startsWith(installed), `${resolved} is inside ${installed}`)
  // The tarball carries the built artifacts and the wrapper, not the Rust sources.
  for (const file of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'loader.js', 'native.d.ts', 'package.json']) {
    assert.ok(existsSync(path.join(installed, file)), file)
  }
  assert.ok(!existsSync(path.join(installed, 'src')))
  assert.ok(!existsSync(path.join(installed, 'Cargo.toml')))
  // The binary is not in the main package but in its platform package (napi-rs layout).
  assert.deepEqual(readdirSync(installed).filter((f) => f.endsWith('.node')), [])
})

test('the addon is loaded from the platform package, an optional dependency at the same version', (t) => {
  const project = process.env.VECTORCACHE_TEST_PROJECT
  if (!project) {
    t.skip('VECTORCACHE_TEST_PROJECT not set (run through tests/node/run.sh)')
    return
  }
  require('vectorcache')
  const main = require('vectorcache/package.json')
  const { platformName, linuxLibc } = require(path.join(path.dirname(require.resolve('vectorcache')), 'loader.js'))
  const platformPackage = `vectorcache-${platformName(process.platform, process.arch, linuxLibc())}`
  assert.equal(main.optionalDependencies[platformPackage], main.version)
  const sub = require(`${platformPackage}/package.json`)
  assert.equal(sub.version, main.version)
  const dir = path.join(realpathSync(project), 'node_modules', platformPackage) + path.sep
  const addon = Object.keys(require.cache).filter((file) => file.endsWith('.node'))
  assert.deepEqual(addon, [path.join(dir, sub.main)])
})
