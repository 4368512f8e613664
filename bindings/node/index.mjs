// ESM entry point: the CommonJS package re-exported, so `import` and `require` share one
// addon instance and one set of error classes (instanceof works across both).
import { createRequire } from 'node:module'

// Loaded with require rather than `import cjs from './index.js'`: when the CommonJS module
// throws (no addon for this platform), Node 18 and 20 also report a statically imported one's
// error as uncaught, ending a process whose `await import('vectorcache')` caught it.
const cjs = createRequire(import.meta.url)('./index.js')

export const {
  VectorcacheClient,
  VectorcacheError,
  VectorcacheAPIError,
  VectorcacheValidationError,
  VectorcacheInvalidRequestError,
  VectorcacheConfigurationError,
  VectorcacheAuthenticationError,
  VectorcachePermissionError,
  VectorcacheNotFoundError,
  VectorcacheRateLimitError,
  VectorcacheServerError,
  VectorcacheResponseValidationError,
  VectorcacheNetworkError,
  VectorcacheTimeoutError,
  VectorcacheCertificateError,
  VERSION,
} = cjs

// The earlier package's default export was the client class.
export default cjs.VectorcacheClient
