'use strict'
// Finds and loads the native addon (napi-rs) for this platform. Replaces the loader `napi build`
// generates so that a platform with no binary gets one clear error that names the platform and
// says what to do, instead of a chain of MODULE_NOT_FOUND.
//
// The binaries ship napi-rs style: one npm package per platform (`vectorcache-linux-x64-gnu`,
// ...; bindings/node/npm/*), each an optionalDependency of `vectorcache` restricted by its
// os/cpu/libc fields, so npm installs only the one that fits. Looked up in this order:
//   1. VECTORCACHE_NATIVE_LIBRARY_PATH: a .node file of your own (e.g. built from source);
//   2. vectorcache.<platform>.node beside this file (a `napi build --platform` in a checkout);
//   3. the platform package.

const { existsSync, readFileSync } = require('node:fs')
const path = require('node:path')

const pkg = require('./package.json')

const BINARY_NAME = 'vectorcache'
const ENV_OVERRIDE = 'VECTORCACHE_NATIVE_LIBRARY_PATH'
const SOURCE_HINT =
  'build the addon from source (the Rust toolchain and the repository ' +
  'https://github.com/vectorcache/vectorcache-sdk: `cd bindings/node && npm ci && npm run build`) ' +
  `and set ${ENV_OVERRIDE} to the .node file it writes`

/** 'musl' or 'gnu' on Linux (which C library this Node runs on), else null. */
function linuxLibc() {
  if (process.platform !== 'linux') return null
  try {
    // glibc's ldd is a script that names glibc; musl's is the musl loader itself.
    if (readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl'
  } catch {
    // No readable ldd (a minimal image): ask Node, which reports the glibc it runs on, if any.
  }
  try {
    const report = process.report && process.report.getReport()
    const header = typeof report === 'string' ? JSON.parse(report).header : report && report.header
    if (header) return header.glibcVersionRuntime ? 'gnu' : 'musl'
  } catch {
    // Fall through to the common case.
  }
  return 'gnu'
}

/** The napi-rs platform name: linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64-msvc, ... */
function platformName(platform, arch, libc) {
  if (platform === 'linux') return `${platform}-${arch}-${libc}`
  if (platform === 'win32') return `${platform}-${arch}-msvc`
  return `${platform}-${arch}`
}

/** The platforms with a prebuilt addon: package.json's napi.targets, as napi-rs names them. */
function supportedPlatforms() {
  const ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }
  return ((pkg.napi && pkg.napi.targets) || []).map((triple) => {
    const [arch, , os, abi] = triple.split('-')
    const nodeArch = ARCH[arch] || arch
    if (os === 'darwin') return `darwin-${nodeArch}`
    if (os === 'windows') return `win32-${nodeArch}-${abi}`
    if (os === 'linux') return `linux-${nodeArch}-${abi}`
    return triple
  })
}

function describe({ platform, arch, libc }) {
  const libcText = libc ? `, ${libc === 'gnu' ? 'glibc' : libc}` : ''
  return `${platform} ${arch}${libcText}, Node ${process.version}`
}

function nativeError(message, target, cause) {
  const error = new Error(message, cause ? { cause } : undefined)
  error.code = 'ERR_VECTORCACHE_NATIVE_BINARY'
  Object.assign(error, target)
  return error
}

function isMissing(error, request) {
  return (
    error &&
    error.code === 'MODULE_NOT_FOUND' &&
    typeof error.message === 'string' &&
    error.message.includes(`'${request}'`)
  )
}

/**
 * Loads the addon for `target` (default: this process). `target` exists for the tests, which
 * ask for a platform with no binary.
 */
function load(target = { platform: process.platform, arch: process.arch, libc: linuxLibc() }) {
  const name = platformName(target.platform, target.arch, target.libc)
  const context = { ...target, platformName: name }

  const override = process.env[ENV_OVERRIDE]
  if (override) {
    try {
      return require(path.resolve(override))
    } catch (cause) {
      throw nativeError(
        `vectorcache: cannot load the native addon ${override} named by ${ENV_OVERRIDE} ` +
          `(${describe(target)}): ${cause.message}`,
        context,
        cause,
      )
    }
  }

  const local = path.join(__dirname, `${BINARY_NAME}.${name}.node`)
  if (existsSync(local)) return require(local)

  const supported = supportedPlatforms()
  if (!supported.includes(name)) {
    throw nativeError(
      `vectorcache ${pkg.version} has no prebuilt native addon for this platform ` +
        `(${name}: ${describe(target)}). Prebuilt addons exist for ${supported.join(', ')}. ` +
        `To use vectorcache here, ${SOURCE_HINT}.`,
      context,
    )
  }

  const packageName = `${pkg.name}-${name}`
  const wanted = `${packageName}@${pkg.version}`
  try {
    return require(packageName)
  } catch (cause) {
    if (isMissing(cause, packageName)) {
      throw nativeError(
        `vectorcache ${pkg.version}: the native addon for this platform (${name}: ${describe(target)}) ` +
          `is in the package ${wanted}, which is not installed. npm installs it with vectorcache as ` +
          'an optional dependency; it goes missing when optional dependencies are omitted ' +
          '(--omit=optional, --no-optional) or when a package-lock.json made on another platform ' +
          `is reused. Run \`npm install ${wanted}\`, or delete node_modules and package-lock.json and ` +
          `run \`npm install\` again. If this code was bundled (esbuild, webpack, ncc), mark ` +
          `vectorcache as external, or ship ${BINARY_NAME}.${name}.node from ${wanted} beside the ` +
          `bundle. Otherwise ${SOURCE_HINT}.`,
        context,
      )
    }
    throw nativeError(
      `vectorcache ${pkg.version}: the native addon in ${packageName} failed to load ` +
        `(${name}: ${describe(target)}): ${cause.message}`,
      context,
      cause,
    )
  }
}

module.exports = { load, linuxLibc, platformName, supportedPlatforms }
