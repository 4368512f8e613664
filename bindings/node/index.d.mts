// Types of the ESM entry (index.mjs): index.d.ts's, with the client class as the default export.
// index.d.ts describes a CommonJS module, whose default import under Node's ESM rules is the
// whole `module.exports`; index.mjs exports the class itself as its default.
import { VectorcacheClient } from './index.js'

export * from './index.js'

/** The earlier package's default export: the client class. */
export default VectorcacheClient
