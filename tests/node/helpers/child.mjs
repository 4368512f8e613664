// Running Node scripts (doc snippets, examples) in child processes, from a directory where
// `vectorcache` resolves to the installed package.
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import path from 'node:path'

import { PROJECT } from './emulator.mjs'

/** Copies `file` into a fresh directory inside the project, so its imports find the package there. */
export function copyIntoProject(file) {
  const dir = mkdtempSync(path.join(PROJECT, '.vectorcache-run-'))
  const target = path.join(dir, path.basename(file))
  cpSync(file, target)
  return target
}

/** Runs `node args...`; resolves to { code, stdout, stderr, elapsedMs } (kills it after `timeoutMs`). */
export function runNode(args, { env = process.env, cwd = PROJECT, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, elapsedMs: Date.now() - started })
    })
  })
}
