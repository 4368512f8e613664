// Retrying rate-limited queries until X-RateLimit-Reset, as the documentation writes it.
import { VectorcacheClient } from 'vectorcache';

const client = new VectorcacheClient({
  apiKey: process.env.VECTORCACHE_API_KEY,
});

async function queryWithRetry(request, maxRetries = 3) {
  for (let attempt = 0; attempt < maxRetries; attempt++) {
    try {
      return await client.query(request);
    } catch (error) {
      if (error.statusCode === 429 && attempt < maxRetries - 1) {
        const resetTime = error.headers['x-ratelimit-reset'];
        const waitTime = resetTime
          ? parseInt(resetTime) * 1000 - Date.now()
          : Math.pow(2, attempt) * 1000;
        console.log(`Rate limited. Waiting ${Math.max(waitTime, 0)}ms before retrying...`);
        await new Promise((resolve) => setTimeout(resolve, Math.max(waitTime, 0)));
        continue;
      }
      throw error;
    }
  }
}

const result = await queryWithRetry({ prompt: 'What is AI?', model: 'gpt-4o' });
console.log('Cache hit:', result.cache_hit);
console.log('Response:', result.response);
