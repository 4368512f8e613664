// The quick start, as the documentation writes it.
import { VectorcacheClient } from 'vectorcache';

const client = new VectorcacheClient({
  apiKey: process.env.VECTORCACHE_API_KEY,
});

const result = await client.query({
  prompt: 'What is machine learning?',
  model: 'gpt-4o',
  similarityThreshold: 0.85,
});

if (result.cache_hit) {
  console.log('✅ Cache hit!');
  console.log('Similarity:', result.similarity_score);
  console.log('Cost saved: $' + result.cost_saved);
} else {
  console.log('❌ Cache miss - fresh response from', result.llm_provider);
}
console.log('Response:', result.response);
