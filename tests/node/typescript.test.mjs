// examples/node/quickstart.ts type-checks with `tsc --noEmit --strict` against the installed
// package's index.d.ts (typescript and @types/node come from bindings/node/node_modules).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { copyIntoProject } from './helpers/child.mjs'
import { REPO } from './helpers/emulator.mjs'

const NODE_DEPS = path.join(REPO, 'bindings/node/node_modules')
const TSC = process.env.VECTORCACHE_TSC ?? path.join(NODE_DEPS, 'typescript/bin/tsc')

test('tsc --noEmit --strict passes on the TypeScript quick start', async () => {
  assert.ok(existsSync(TSC), `${TSC} missing: run npm ci in bindings/node`)
  const example = copyIntoProject(path.join(REPO, 'examples/node/quickstart.ts'))
  const args = [
    TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16',
    '--types', 'node', '--typeRoots', path.join(NODE_DEPS, '@types'), example,
  ]
  try {
    await promisify(execFile)(process.execPath, args, { cwd: path.dirname(example) })
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`)
  }
})
