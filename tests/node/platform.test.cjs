// The main npm package without its platform package: `require('vectorcache')` (and `import`)
// fail with one error that names the platform and what to do, not a MODULE_NOT_FOUND stack.
// Installs the real main tarball from dist/ alone into a fresh temp project (run.sh sets
// VECTORCACHE_MAIN_TARBALL), the way npm leaves it when the optional platform package is skipped.
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { test } = require('node:test')

const tarball = process.env.VECTORCACHE_MAIN_TARBALL

function expectClearError(output, platform) {
  assert.match(output, /vectorcache \d+\.\d+\.\d+/)
  assert.ok(output.includes(platform), `names the platform ${platform}: ${output}`)
  assert.ok(output.includes(`vectorcache-${platform}@`), 'names the package to install')
  assert.match(output, /npm install/)
  // A bundle that left node_modules behind hits this too: what to do then.
  assert.ok(output.includes(`ship vectorcache.${platform}.node from vectorcache-${platform}@`), output)
  assert.match(output, /ERR_VECTORCACHE_NATIVE_BINARY/)
  assert.doesNotMatch(output, /MODULE_NOT_FOUND/)
  assert.doesNotMatch(output, /Require stack/)
}

test('the main tarball alone: require and import fail with the platform and what to do', (t) => {
  if (!tarball) {
    t.skip('VECTORCACHE_MAIN_TARBALL not set (run through tests/node/run.sh)')
    return
  }
  const project = mkdtempSync(path.join(os.tmpdir(), 'vectorcache-main-only-'))
  t.after(() => rmSync(project, { recursive: true, force: true }))
  writeFileSync(path.join(project, 'package.json'), '{ "name": "main-only", "private": true }\n')
  execFileSync('npm', ['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', '--no-package-lock', tarball], {
    cwd: project,
    stdio: 'pipe',
  })

  const { linuxLibc, platformName } = require(path.join(project, 'node_modules', 'vectorcache', 'loader.js'))
  const platform = platformName(process.platform, process.arch, linuxLibc())
  const env = { ...process.env }
  delete env.VECTORCACHE_NATIVE_LIBRARY_PATH

  for (const script of ["require('vectorcache')", "await import('vectorcache')"]) {
    const args = script.startsWith('await') ? ['--input-type=module', '-e', script] : ['-e', script]
    const run = spawnSync(process.execPath, args, { cwd: project, env, encoding: 'utf8' })
    assert.notEqual(run.status, 0, script)
    expectClearError(run.stderr, platform)
  }

  // Caught, the error ends nothing: a program that treats vectorcache as optional goes on
  // (Node 18 and 20 also reported a failed static import of CommonJS as uncaught).
  const optional = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "try { await import('vectorcache') } catch (e) { console.log('caught', e.code) }\n" +
        "setTimeout(() => console.log('still running'), 50)",
    ],
    { cwd: project, env, encoding: 'utf8' },
  )
  assert.equal(optional.status, 0, optional.stderr)
  assert.equal(optional.stdout, 'caught ERR_VECTORCACHE_NATIVE_BINARY\nstill running\n')
  assert.equal(optional.stderr, '')

  const run = spawnSync(
    process.execPath,
    ['-e', "try { require('vectorcache') } catch (e) { console.log(JSON.stringify({ code: e.code, platform: e.platform, arch: e.arch, libc: e.libc, cause: e.cause })) }"],
    { cwd: project, env, encoding: 'utf8' },
  )
  const error = JSON.parse(run.stdout)
  assert.deepEqual(error, {
    code: 'ERR_VECTORCACHE_NATIVE_BINARY',
    platform: process.platform,
    arch: process.arch,
    libc: linuxLibc(),
  })
})

test('a platform with no prebuilt addon at all: the error lists the ones that exist', (t) => {
  const loaderPath = path.join(path.dirname(require.resolve('vectorcache')), 'loader.js')
  const { load } = require(loaderPath)
  let error
  try {
    load({ platform: 'freebsd', arch: 'riscv64', libc: null })
  } catch (e) {
    error = e
  }
  assert.ok(error, 'load threw')
  assert.equal(error.code, 'ERR_VECTORCACHE_NATIVE_BINARY')
  assert.match(error.message, /no prebuilt native addon for this platform \(freebsd-riscv64: freebsd riscv64, Node v/)
  assert.match(error.message, /linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, darwin-x64, darwin-arm64, win32-x64-msvc/)
  assert.match(error.message, /VECTORCACHE_NATIVE_LIBRARY_PATH/)
  assert.equal(error.cause, undefined)
  t.diagnostic(error.message)
})
