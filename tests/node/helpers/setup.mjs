// One emulator per test file, reset before every test.
import { after, before, beforeEach } from 'node:test'

import { startEmulator } from './emulator.mjs'

/** Registers the hooks and returns a handle whose `.emulator` is set once started. */
export function useEmulator() {
  const handle = { emulator: null }
  before(async () => {
    handle.emulator = await startEmulator()
  })
  beforeEach(() => handle.emulator.reset())
  after(() => handle.emulator?.stop())
  return handle
}
