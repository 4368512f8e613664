// ESM entry point: the CommonJS package re-exported, so `import` and `require` share one
// addon instance and one set of error classes (instanceof works across both).
import cjs from './index.js'

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
