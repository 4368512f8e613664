// Vectorcache quick start for Node: the same prompt twice, a miss then a hit.
//
//   cargo run -p vectorcache-cli -- emulator        # prints the two exports below
//   export VECTORCACHE_BASE_URL=http://127.0.0.1:8787 VECTORCACHE_API_KEY=vc_...
//   node examples/node/quickstart.mjs
import { VectorcacheClient, VectorcacheError } from 'vectorcache';

// Reads VECTORCACHE_API_KEY and VECTORCACHE_BASE_URL when not given here.
const client = new VectorcacheClient({ timeout: 10_000 });

async function ask(prompt) {
  const result = await client.query({ prompt, model: 'gpt-4o', context: 'quickstart' });
  const verdict = result.cache_hit
    ? `HIT  similarity=${result.similarity_score} saved=$${result.cost_saved}`
    : `MISS provider=${result.llm_provider}`;
  console.log(`${verdict}\n  ${result.response}`);
  return result;
}

try {
  await ask('What is machine learning?');
  await ask('What is machine learning?');
} catch (error) {
  if (!(error instanceof VectorcacheError)) throw error;
  console.error(`Vectorcache ${error.name} (${error.kind}${error.statusCode ? `, HTTP ${error.statusCode}` : ''}): ${error.message}`);
  process.exitCode = 1;
}
