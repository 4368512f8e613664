// guides/error-handling, as the documentation writes it: the `baseURL` spelling and the wire's
// snake_case `similarity_threshold`, with the axios-style `error.response`.
import { VectorcacheClient } from 'vectorcache';

const client = new VectorcacheClient({
  apiKey: process.env.VECTORCACHE_API_KEY,
  baseURL: process.env.VECTORCACHE_BASE_URL,
});

try {
  const result = await client.query({
    prompt: 'What is AI?',
    model: 'gpt-4o',
    similarity_threshold: 0.9,
  });
  console.log(result.cache_hit ? 'Cache hit' : 'Cache miss', result.response);
} catch (error) {
  if (error.response?.status === 429) {
    console.error('Rate limited; retry after', error.response.headers['retry-after']);
  } else {
    console.error('Error:', error.message);
  }
  process.exitCode = 1;
}
