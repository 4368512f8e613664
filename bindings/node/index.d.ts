// Types of the npm package `vectorcache` (hand-written; the addon's own types are native.d.ts).

/** Options of a client. Every one is optional; explicit values beat the environment. */
export interface VectorcacheConfig {
  /** The API key (`vc_` + 32 hex characters). Defaults to `process.env.VECTORCACHE_API_KEY`. */
  apiKey?: string
  /** The service URL. Defaults to `VECTORCACHE_BASE_URL`, else `https://api.vectorcache.ai`. */
  baseUrl?: string
  /**
   * The same setting as `baseUrl`, spelled as one documentation guide (and the OpenAI SDK)
   * spell it. Give one of the two: both is a `VectorcacheConfigurationError`.
   */
  baseURL?: string
  /** Timeout of one attempt, in milliseconds. @default 30000 */
  timeout?: number
  /** Retries after the first attempt (timeouts, connection failures, 429/500/502/503/504). @default 2 */
  maxRetries?: number
  /** The project every request targets unless it names its own. */
  projectId?: string
  /**
   * Where the client's answers (debug) and retries (info) are logged, never with the key:
   * an object with `debug`, `info`, `warn` and `error` methods (`console` works). Without it,
   * `VECTORCACHE_LOG=debug|info|warn|error` prints them to stderr (`off` or unset: nothing).
   * A call's records are logged as that call settles, in its caller's async context (what
   * `AsyncLocalStorage`-based loggers read); an aborted call's, once its work has stopped.
   */
  logger?: VectorcacheLogger
  /**
   * Connections open at once, at most, in the pool this client shares with the process's other
   * clients of the same connection settings; queries beyond wait their turn. @default 100
   */
  maxConnections?: number
  /**
   * Milliseconds every call may take as a whole: waiting for a connection, every attempt and
   * every wait between attempts. When they run out the call rejects with a
   * `VectorcacheTimeoutError`. @default none
   */
  totalTimeout?: number
  /**
   * Milliseconds opening a connection may take: behind a firewall that drops the packets, an
   * attempt fails after this rather than after `timeout`. @default 10000
   */
  connectTimeout?: number
  /**
   * CA certificates to trust beside the system's: PEM text, a `Buffer` holding it, or an array
   * of them, as Node's own `https` options take them. `NODE_EXTRA_CA_CERTS` adds a file too.
   * @example ca: fs.readFileSync('corp-ca.pem')
   */
  ca?: string | Buffer | Array<string | Buffer>
  /**
   * The proxy for every request (`http://[user:password@]host:port`), instead of the
   * `HTTPS_PROXY` environment. Its credentials are never shown.
   */
  proxy?: string
}

/** A logger for the client's events. */
export interface VectorcacheLogger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Settings of one call, the second argument of `query`. */
export interface QueryOptions {
  /** This call's per-attempt timeout in milliseconds, instead of the client's. */
  timeout?: number
  /** This call's retries after the first attempt, instead of the client's. */
  maxRetries?: number
  /** Milliseconds this whole call may take, instead of the client's `totalTimeout`. */
  totalTimeout?: number
  /**
   * Headers sent with this call only (not `Authorization`, nor the ones that frame the request
   * such as `Content-Length`), in the shapes `fetch` takes: an object, a `Map`, a `Headers`,
   * or `[name, value]` pairs.
   */
  headers?: Record<string, string> | Iterable<readonly [string, string]>
  /** The project to query, overriding the request's and the client's. */
  projectId?: string
  /**
   * Cancels the call: the promise rejects at once with a `DOMException` named `'AbortError'`
   * whose `cause` is the signal's reason (also for `AbortSignal.timeout()`, as Node's own
   * APIs do), the HTTP request is dropped and nothing is retried. An already aborted signal
   * sends nothing. One signal may serve any number of calls.
   */
  signal?: AbortSignal | null
}

/**
 * The per-call settings an item of `queryMany` may hold beside its query fields, as `query`
 * takes them in its second argument (the batch's one `signal` is in the batch's options).
 * @example client.queryMany([{ prompt: 'What is ML?', model: 'gpt-4o', maxRetries: 0 }])
 */
export type BatchQueryOptions = Omit<QueryOptions, 'signal' | 'projectId'>

/** A cache query (`POST /v1/cache/query`). */
export interface CacheQueryRequest {
  /** The prompt to look up (and cache on a miss). */
  prompt: string
  /** The LLM model id, e.g. `gpt-4o`, `claude-3-5-sonnet-20241022`. */
  model: string
  /** Segments the cache: the same prompt under another context is another entry. */
  context?: string
  /** Minimum cosine similarity (0..1) for a hit. @default 0.85 (server side) */
  similarityThreshold?: number
  /** Adds the `debug` object to the response. */
  includeDebug?: boolean
  /** The project to query; overrides the client's `projectId`. */
  projectId?: string
  /** `similarityThreshold` in the API's own (snake_case) spelling; give one of the two, not both. */
  similarity_threshold?: number
  /** `includeDebug` in the API's own (snake_case) spelling; give one of the two, not both. */
  include_debug?: boolean
  /** `projectId` in the API's own (snake_case) spelling; give one of the two, not both. */
  project_id?: string
}

/** The `debug` object of a response (requested with `includeDebug`). */
export interface DebugInfo {
  embedding_time_ms: number
  search_time_ms: number
  total_time_ms: number
  /** The id (a UUID) of the matched cache entry; `null` on a miss. */
  matched_cache_entry_id: string | null
  cache_entry_count: number
}

/** Rate-limit state from the `X-RateLimit-*` headers. */
export interface RateLimitInfo {
  limit?: number
  remaining?: number
  /** When the window resets, in Unix seconds. */
  reset?: number
}

/**
 * The answer to a cache query, in the documented snake_case shape. `rateLimit` and
 * `requestId` are non-enumerable: readable, but absent from `JSON.stringify` and spreads.
 */
export interface CacheQueryResponse {
  cache_hit: boolean
  response: string
  /** Cosine similarity of the match; `null` on a miss. */
  similarity_score: number | null
  /** Estimated USD saved; 0 on a miss. */
  cost_saved: number
  /** `cache` on a hit, else the provider (`openai`, `anthropic`, `google`, ...). */
  llm_provider: string
  debug?: DebugInfo
  readonly rateLimit?: RateLimitInfo
  readonly requestId?: string
}

/** The stable names of the core's error kinds. */
export type VectorcacheErrorKind =
  | 'bad_request'
  | 'authentication'
  | 'permission_denied'
  | 'not_found'
  | 'unprocessable_entity'
  | 'rate_limited'
  | 'internal_server'
  | 'bad_gateway'
  | 'service_unavailable'
  | 'status'
  | 'timeout'
  | 'connection'
  | 'certificate'
  | 'decode'
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'invalid_request'
  | 'invalid_config'
  | 'internal'

/** The HTTP answer behind an error, as `error.response` (axios-style). */
export interface VectorcacheErrorResponse {
  status: number
  /** Lower-case header names. */
  headers: Record<string, string>
  /** The body parsed as JSON, or its text. */
  data: unknown
}

/**
 * Every error the package throws or rejects with.
 *
 * ```
 * VectorcacheError
 * ├── VectorcacheAPIError                 the service or the network was involved
 * │   ├── VectorcacheValidationError      400, 422
 * │   ├── VectorcacheAuthenticationError  401
 * │   ├── VectorcachePermissionError      403
 * │   ├── VectorcacheNotFoundError        404
 * │   ├── VectorcacheRateLimitError       429
 * │   ├── VectorcacheServerError          any 5xx
 * │   ├── VectorcacheResponseValidationError  a 2xx body that is not the documented JSON
 * │   └── VectorcacheNetworkError         refused, reset, DNS, TLS
 * │       ├── VectorcacheTimeoutError
 * │       └── VectorcacheCertificateError  the server's certificate is not trusted
 * ├── VectorcacheInvalidRequestError      a bad request; nothing was sent
 * └── VectorcacheConfigurationError       no key, malformed key, bad base URL or option
 * ```
 * Any other status (409, 302, ...) is a plain `VectorcacheAPIError`.
 */
export declare class VectorcacheError extends Error {
  /** The core's stable kind name. */
  readonly kind: VectorcacheErrorKind
  /** The HTTP status; `undefined` for local and transport errors. */
  readonly statusCode: number | undefined
  /** The same as `statusCode`, named as in `fetch`'s `Response.status`. */
  readonly status: number | undefined
  /** The server's `detail` message, decoded from whichever body shape it sent. */
  readonly detail: string | undefined
  /** Response headers with lower-case names; `{}` when there was no answer. */
  readonly headers: Record<string, string>
  /** The response body text (bounded). */
  readonly body: string | undefined
  readonly requestId: string | undefined
  /** Seconds the server asked to wait (429, 503). */
  readonly retryAfter: number | undefined
  /** The `X-RateLimit-*` state of the answer, if the server sent it. */
  readonly rateLimit: RateLimitInfo | undefined
  /** Attempts the call made (retries included); `undefined` for local errors (nothing was sent). */
  readonly attempts: number | undefined
  /** The HTTP answer; `undefined` for local and transport errors. */
  readonly response: VectorcacheErrorResponse | undefined
  /** The underlying error (e.g. the transport's), when there is one. */
  readonly cause?: unknown
}
/** The service or the network was involved: every error that is not a local mistake. */
export declare class VectorcacheAPIError extends VectorcacheError {}
/** 400 / 422 from the server. */
export declare class VectorcacheValidationError extends VectorcacheAPIError {}
/** 401. */
export declare class VectorcacheAuthenticationError extends VectorcacheAPIError {}
/** 403. */
export declare class VectorcachePermissionError extends VectorcacheAPIError {}
/** 404. */
export declare class VectorcacheNotFoundError extends VectorcacheAPIError {}
/** 429. */
export declare class VectorcacheRateLimitError extends VectorcacheAPIError {}
/** Any 5xx. */
export declare class VectorcacheServerError extends VectorcacheAPIError {}
/** A success status whose body is not the documented JSON. */
export declare class VectorcacheResponseValidationError extends VectorcacheAPIError {}
/** Refused, reset, DNS or TLS failure. */
export declare class VectorcacheNetworkError extends VectorcacheAPIError {}
/** An attempt exceeded `timeout`. */
export declare class VectorcacheTimeoutError extends VectorcacheNetworkError {}
/** The server's TLS certificate is not trusted (never retried); the `ca` option or `NODE_EXTRA_CA_CERTS` adds a CA. */
export declare class VectorcacheCertificateError extends VectorcacheNetworkError {}
/** A bad prompt, model, threshold or request field; nothing was sent. Never a `VectorcacheAPIError`. */
export declare class VectorcacheInvalidRequestError extends VectorcacheError {}
/** No API key (the message names `VECTORCACHE_API_KEY`), a malformed key, an insecure base URL or a bad option; nothing was sent. Never a `VectorcacheAPIError`. */
export declare class VectorcacheConfigurationError extends VectorcacheError {}

/** A client's usage: what the docs make users count by hand. */
export interface UsageStats {
  /** Calls of `query` that finished, successful or not. */
  queries: number
  hits: number
  misses: number
  /** `hits / (hits + misses)`; 0 before the first answer. */
  hitRate: number
  /** The `cost_saved` of every answer, summed (USD). */
  costSaved: number
  /** Failed calls by error kind. */
  errors: Partial<Record<VectorcacheErrorKind, number>>
  /** Retries made (attempts after the first of a call). */
  retries: number
  /** Latency percentiles in milliseconds (within about 5 %). */
  latencyMs: { p50: number; p95: number; p99: number }
}

/** The configuration shown by `JSON.stringify(client)` and `util.inspect(client)`. */
export interface RedactedConfig {
  /** Redacted, e.g. `vc_1234…`. */
  apiKey: string
  baseUrl: string
  timeout: number
  maxRetries: number
  projectId: string | undefined
}

/** A Vectorcache client backed by the Rust core; safe to share across concurrent queries. */
export declare class VectorcacheClient {
  /** @throws {VectorcacheConfigurationError} for a missing or bad key or options, before any request. */
  constructor(config?: VectorcacheConfig)
  /**
   * Looks `request` up in the cache; rejects with a `VectorcacheError` subclass (or, when
   * `options.signal` aborts, a `DOMException` named `'AbortError'`).
   */
  query(request: CacheQueryRequest, options?: QueryOptions): Promise<CacheQueryResponse>
  /**
   * Looks every request up, at most `concurrency` (default 16) at once, in one native call.
   * Each request may hold its own `timeout`, `maxRetries`, `totalTimeout` and `headers`.
   * Resolves to `{ result }` or `{ error }` per request, in input order; one failure never
   * fails the batch. `signal` aborts the whole batch (rejecting with an `AbortError`).
   */
  queryMany(
    requests: Array<CacheQueryRequest & BatchQueryOptions>,
    options?: { concurrency?: number; signal?: AbortSignal | null },
  ): Promise<Array<{ result: CacheQueryResponse; error?: undefined } | { error: VectorcacheError; result?: undefined }>>
  /** A snapshot of this client's usage since it was made or since `resetStats()`. */
  stats(): UsageStats
  /** Starts the statistics afresh. */
  resetStats(): void
  /** Rotates the key on this client; requests in flight keep the old one. @throws {VectorcacheConfigurationError} for a malformed key. */
  setApiKey(apiKey: string): void
  readonly baseUrl: string
  /** The per-attempt timeout in milliseconds. */
  readonly timeout: number
  readonly maxRetries: number
  readonly projectId: string | undefined
  toJSON(): RedactedConfig
}

/** The package version. */
export declare const VERSION: string

/** The earlier package's default export: the client class. */
export default VectorcacheClient
