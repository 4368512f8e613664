// Types of `vectorcache/testing`.
import type { VectorcacheClient, VectorcacheConfig } from './index'

/** A fault for the next query(s) of the emulator. */
export interface EmulatorFault {
  /**
   * The status to answer instead. Without a `body` the answer is the service's own for it
   * (its documented `detail`; a 429 also its `X-RateLimit-*` headers and `Retry-After: 1`).
   */
  status?: number
  /**
   * The body: a string as it is, other values as JSON; `null` or `''` for an empty one; at
   * most 64 MiB. NaN and the infinities are refused (JSON has no spelling for them).
   */
  body?: unknown
  headers?: Record<string, string>
  /** Whole milliseconds to wait before answering (or dropping), at most 300,000. */
  delayMs?: number
  /** Closes the connection instead of answering. */
  dropConnection?: boolean
  /** `delayMs` in the emulator's own spelling; give one of the two. */
  delay_ms?: number
  /** `dropConnection` in the emulator's own spelling; give one of the two. */
  drop_connection?: boolean
  /** How many queries the fault applies to. @default 1 */
  count?: number
}

/** A query the emulator received (`Authorization` redacted). */
export interface EmulatorRequest {
  request_id: string
  method: string
  path: string
  status: number | null
  headers: Record<string, string>
  body: unknown
  fault: boolean
  /** The connection it came on, numbered from 1 (queries on one kept-alive connection share it). */
  connection: number
}

/** Options of `Emulator.start`. */
export interface EmulatorOptions {
  /** The key it accepts; a new one (`vc_` + 32 hex) by default. */
  apiKey?: string
  /** The loopback port; 0 (the default) picks a free one. */
  port?: number
  /**
   * Like the service, it limits each key and sends `X-RateLimit-*` on every authenticated
   * answer. `true` (the default): a generous 100,000 per minute; `{ perMinute, burst }`: your
   * own (to test 429 handling; `burst` defaults to `perMinute`); `false`: off, no headers.
   */
  rateLimit?: boolean | { perMinute: number; burst?: number }
}

/**
 * The SDK's emulator of the Vectorcache API, inside this process on a free loopback port. It
 * runs until `close()`, whether or not the program still references it (as an `http.Server`
 * does), but it does not keep the process alive on its own.
 */
export declare class Emulator {
  static start(options?: EmulatorOptions): Promise<Emulator>
  readonly baseUrl: string
  readonly apiKey: string
  client(options?: VectorcacheConfig): VectorcacheClient
  /**
   * Queues a fault; resolves to `queued` (1) and `pending`, the queries the queued faults will
   * affect. Rejects with a `TypeError` when the emulator cannot make it.
   */
  addFault(fault: EmulatorFault): Promise<{ queued: number; pending: number }>
  /** The queries it received, oldest first: the last 1,000. */
  requests(): Promise<EmulatorRequest[]>
  /** Forgets the cache, the queued faults, the request log and the rate-limit buckets (full again). */
  reset(): Promise<void>
  close(): Promise<void>
}
