// The quick start in TypeScript; `tsc --noEmit --strict` checks it against the package's types.
import {
  CacheQueryRequest,
  CacheQueryResponse,
  DebugInfo,
  VectorcacheClient,
  VectorcacheConfig,
  VectorcacheError,
  VectorcacheRateLimitError,
  VectorcacheTimeoutError,
} from 'vectorcache';

const config: VectorcacheConfig = {
  apiKey: process.env.VECTORCACHE_API_KEY,
  timeout: 10_000,
  maxRetries: 2,
};

function describe(result: CacheQueryResponse): string {
  const similarity: number | null = result.similarity_score;
  const debug: DebugInfo | undefined = result.debug;
  const timing = debug ? ` in ${debug.total_time_ms} ms` : '';
  return result.cache_hit
    ? `hit (${similarity}), saved $${result.cost_saved}${timing}`
    : `miss from ${result.llm_provider}${timing}`;
}

async function main(): Promise<void> {
  const client = new VectorcacheClient(config);
  const request: CacheQueryRequest = {
    prompt: 'What is machine learning?',
    model: 'gpt-4o',
    similarityThreshold: 0.85,
    includeDebug: true,
  };
  try {
    for (let i = 0; i < 2; i++) {
      const result = await client.query(request);
      console.log(describe(result), result.requestId ?? '', result.rateLimit?.remaining ?? '');
    }
  } catch (error: unknown) {
    if (error instanceof VectorcacheRateLimitError) {
      console.error(`rate limited; retry in ${error.retryAfter ?? '?'} s (reset ${error.headers['x-ratelimit-reset']})`);
    } else if (error instanceof VectorcacheTimeoutError) {
      console.error(`timed out after ${error.attempts} attempt(s)`);
    } else if (error instanceof VectorcacheError) {
      const status: number | undefined = error.statusCode ?? error.response?.status;
      console.error(`${error.name} [${error.kind}] ${status ?? '-'}: ${error.detail ?? error.message}`);
    } else {
      throw error;
    }
    process.exitCode = 1;
  }
}

void main();
