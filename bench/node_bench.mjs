// The Node side of `make bench`: the installed npm package beside undici's Pool.request (what
// fetch is built on). Run by scripts/bench.sh from a project where both are installed, with
// VECTORCACHE_BENCH_URL and VECTORCACHE_API_KEY pointing at the shared emulator; prints one
// `BENCH {json}` line per figure. CPU time is the whole process's (the addon's threads included);
// on Linux the JavaScript thread's share is printed too (undici runs on it alone; our client
// hands each query to the addon's threads and takes its answer back on it).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Pool } from 'undici'
import { VectorcacheClient } from 'vectorcache'

const URL = process.env.VECTORCACHE_BENCH_URL
const KEY = process.env.VECTORCACHE_API_KEY
const QUERY = { prompt: 'What is machine learning?', model: 'gpt-4o' }
const BODY = JSON.stringify(QUERY)
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000)
const TOTAL = Number(process.env.BENCH_TOTAL ?? 20000)
// Every figure is measured in this many rounds, the clients taking turns (summary.py takes
// the median): a 2-core machine running its own server is noisy.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
// Sequential figures are taken this many times a round: one query at a time waits on every
// wake-up of the virtual machine, whose latency changes from one second to the next.
const SEQUENTIAL_TURNS = 3
const IN_FLIGHT = 64

function report(client, mode, queries, wallMs, cpu, jsThreadNs) {
  const line = {
    lang: 'node', client, mode, queries,
    qps: queries / (wallMs / 1e3),
    cpu_us_per_query: (cpu.user + cpu.system) / queries,
  }
  if (jsThreadNs !== undefined) line.js_thread_cpu_us_per_query = jsThreadNs / 1e3 / queries
  console.log('BENCH ' + JSON.stringify(line))
}

/** This thread's time on a CPU so far in ns (Linux's schedstat), or undefined elsewhere. */
function threadCpuNs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

// BENCH_ONLY=<text> runs only the figures whose "client mode" contains it; BENCH_SKIP=<text>
// leaves out those that do (scripts/bench.sh measures query_many apart, see there).
const ONLY = process.env.BENCH_ONLY
const SKIP = process.env.BENCH_SKIP
const selected = (client, mode) => {
  const figure = `${client} ${mode}`
  return (!ONLY || figure.includes(ONLY)) && !(SKIP && figure.includes(SKIP))
}

async function measure(client, mode, queries, run) {
  const cpu = process.cpuUsage()
  const jsThread = threadCpuNs()
  const started = performance.now()
  await run()
  const wallMs = performance.now() - started
  const jsThreadNs = jsThread === undefined ? undefined : threadCpuNs() - jsThread
  report(client, mode, queries, wallMs, process.cpuUsage(cpu), jsThreadNs)
}

async function sequential(client, one) {
  if (!selected(client, 'sequential')) return
  for (let i = 0; i < 200; i++) if (!(await one())) throw new Error('not a hit')
  await measure(client, 'sequential', SEQUENTIAL, async () => {
    for (let i = 0; i < SEQUENTIAL; i++) if (!(await one())) throw new Error('not a hit')
  })
}

async function inFlight(client, one) {
  if (!selected(client, '64 in flight')) return
  const each = Math.floor(TOTAL / IN_FLIGHT)
  const worker = async (n) => {
    for (let i = 0; i < n; i++) if (!(await one())) throw new Error('not a hit')
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker(20)))
  await measure(client, '64 in flight', each * IN_FLIGHT, () =>
    Promise.all(Array.from({ length: IN_FLIGHT }, () => worker(each))))
}

const require = createRequire(import.meta.url)
const versionOf = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
console.log('VERSIONS ' + JSON.stringify({ node: process.versions.node, vectorcache: versionOf('vectorcache'), undici: versionOf('undici') }))

const client = new VectorcacheClient({ apiKey: KEY, baseUrl: URL })
const vectorcacheOne = async () => (await client.query(QUERY)).cache_hit

const pool = new Pool(URL, { connections: IN_FLIGHT })
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
const undiciOne = async () => {
  const { statusCode, body } = await pool.request({ path: '/v1/cache/query', method: 'POST', headers, body: BODY })
  if (statusCode !== 200) throw new Error(`status ${statusCode}`)
  return (await body.json()).cache_hit
}

await client.query(QUERY)
const many = () => client.queryMany(Array.from({ length: TOTAL }, () => QUERY), { concurrency: IN_FLIGHT })
const batches = selected('vectorcache', 'query_many 64')
if (batches) await many()
for (let round = 0; round < ROUNDS; round++) {
  for (let turn = 0; turn < SEQUENTIAL_TURNS; turn++) {
    await sequential('vectorcache', vectorcacheOne)
    await sequential('undici Pool.request', undiciOne)
  }
  await inFlight('vectorcache', vectorcacheOne)
  await inFlight('undici Pool.request', undiciOne)
  if (batches) await measure('vectorcache', 'query_many 64', TOTAL, async () => {
    const outcomes = await many()
    if (!outcomes.every((o) => o.result?.cache_hit)) throw new Error('a batch member failed or missed')
  })
}
await pool.close()
