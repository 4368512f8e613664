// Error handling by status code, as the documentation writes it.
import { VectorcacheClient, VectorcacheError } from 'vectorcache';

const client = new VectorcacheClient({
  apiKey: process.env.VECTORCACHE_API_KEY,
});

try {
  const result = await client.query({
    prompt: 'What is AI?',
    model: 'gpt-4o',
  });
  console.log(result.response);
} catch (error) {
  if (error instanceof VectorcacheError) {
    switch (error.statusCode) {
      case 401:
        console.error('Invalid API key. Check VECTORCACHE_API_KEY.');
        break;
      case 403:
        console.error('Access denied: this key cannot access the project.');
        break;
      case 429:
        console.error('Rate limited. Resets at', error.headers['x-ratelimit-reset']);
        break;
      default:
        console.error('Vectorcache error:', error.message);
    }
  } else {
    throw error;
  }
}
