// Types of `vectorcache/testing`.
import type { VectorcacheClient, VectorcacheConfig } from './index'

/** A fault for the next query(s) of the emulator. */
export interface EmulatorFault {
  status?: number
  body?: unknown
  headers?: Record<string, string>
  delay_ms?: number
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
}

/** The SDK's emulator of the Vectorcache API, inside this process on a free loopback port. */
export declare class Emulator {
  static start(options?: { apiKey?: string; port?: number }): Promise<Emulator>
  readonly baseUrl: string
  readonly apiKey: string
  client(options?: VectorcacheConfig): VectorcacheClient
  addFault(fault: EmulatorFault): Promise<unknown>
  requests(): Promise<EmulatorRequest[]>
  reset(): Promise<void>
  close(): Promise<void>
}
