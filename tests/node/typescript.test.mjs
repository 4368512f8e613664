// The package's types against the installed package, with `tsc --strict` (typescript and
// @types/node come from bindings/node/node_modules): examples/node/quickstart.ts, the default
// import in each module mode (type-checked, compiled and run), and the documented options.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { copyIntoProject, runNode } from './helpers/child.mjs'
import { API_KEY, PROJECT, REPO } from './helpers/emulator.mjs'

const NODE_DEPS = path.join(REPO, 'bindings/node/node_modules')
const TSC = process.env.VECTORCACHE_TSC ?? path.join(NODE_DEPS, 'typescript/bin/tsc')
/** What every check passes: strict, and Node's types (the options take a `Buffer`). */
const STRICT = ['--strict', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(NODE_DEPS, '@types')]

/** Runs tsc in `dir`; fails the test with tsc's report when it finds errors. */
async function tsc(dir, args) {
  assert.ok(existsSync(TSC), `${TSC} missing: run npm ci in bindings/node`)
  try {
    await promisify(execFile)(process.execPath, [TSC, ...STRICT, ...args], { cwd: dir })
  } catch (error) {
    assert.fail(`tsc ${args.join(' ')} failed:\n${error.stdout}${error.stderr}`)
  }
}

/** Writes `source` as `name` into a fresh directory of the project, where `vectorcache` resolves. */
function sourceInProject(name, source) {
  const dir = mkdtempSync(path.join(PROJECT, '.vectorcache-ts-'))
  writeFileSync(path.join(dir, name), source)
  return dir
}

test('tsc --noEmit --strict passes on the TypeScript quick start', async () => {
  const example = copyIntoProject(path.join(REPO, 'examples/node/quickstart.ts'))
  await tsc(path.dirname(example), ['--noEmit', '--module', 'node16', '--moduleResolution', 'node16', example])
})

// The README's `import VectorcacheClient from 'vectorcache'`, in each way TypeScript compiles it.
const DEFAULT_IMPORT = `import VectorcacheClient, { VectorcacheClient as NamedClient } from 'vectorcache'

const client = new VectorcacheClient({ apiKey: '${API_KEY}', maxRetries: 1 })
const same: boolean = VectorcacheClient === NamedClient && client instanceof NamedClient
console.log(JSON.stringify({ same, maxRetries: client.maxRetries }))
`
const MODULE_MODES = [
  // ESM: the `import` condition, index.d.mts and index.mjs.
  { file: 'default-import.mts', output: 'default-import.mjs', flags: ['--module', 'nodenext', '--moduleResolution', 'nodenext'] },
  // CommonJS under Node's own rules: the `require` condition, index.d.ts and index.js.
  { file: 'default-import.cts', output: 'default-import.cjs', flags: ['--module', 'nodenext', '--moduleResolution', 'nodenext'] },
  // The classic CommonJS project: `__importDefault(require('vectorcache')).default`.
  { file: 'default-import.ts', output: 'default-import.js', flags: ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop'] },
]

for (const { file, output, flags } of MODULE_MODES) {
  test(`the default import is the client class: ${file} with ${flags.join(' ')}, compiled and run`, async () => {
    const dir = sourceInProject(file, DEFAULT_IMPORT)
    await tsc(dir, [...flags, '--outDir', 'out', file])
    const { code, stdout, stderr } = await runNode([path.join(dir, 'out', output)], { cwd: dir })
    assert.equal(code, 0, stderr)
    assert.deepEqual(JSON.parse(stdout), { same: true, maxRetries: 1 })
  })
}

test('the documented options and query spellings type-check, and a misspelling does not', async () => {
  const dir = sourceInProject(
    'options.mts',
    `import { readFileSync } from 'node:fs'
import { VectorcacheClient, type CacheQueryRequest, type VectorcacheConfig } from 'vectorcache'

const pem: string = '-----BEGIN CERTIFICATE-----'
const options: VectorcacheConfig[] = [
  { baseURL: 'https://api.vectorcache.ai', ca: pem, proxy: 'http://user:password@proxy:3128' },
  { ca: readFileSync('corp-ca.pem') },
  { ca: [pem, readFileSync('corp-ca.pem')] },
]
const requests: CacheQueryRequest[] = [
  { prompt: 'p', model: 'gpt-4o', similarity_threshold: 0.9, include_debug: true, project_id: 'proj_1' },
  // @ts-expect-error: options are declared exactly, so a typo is still caught.
  { prompt: 'p', model: 'gpt-4o', similarity_treshold: 0.9 },
]
export const clients = options.map((config) => new VectorcacheClient(config))
export const queries = requests.map((request) => clients[0].query(request))
`,
  )
  await tsc(dir, ['--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'options.mts'])
})
