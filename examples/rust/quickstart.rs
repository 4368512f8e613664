//! Quick start: one client from the environment, a miss, then a hit, and typed errors.
//!
//! Run it against the local emulator:
//!
//! ```sh
//! cargo run -p vectorcache-cli -- emulator          # prints the two exports below
//! export VECTORCACHE_BASE_URL=http://127.0.0.1:8787
//! export VECTORCACHE_API_KEY=vc_...
//! cargo run -p vectorcache --example quickstart
//! ```

use vectorcache::{Client, Error, QueryRequest};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // VECTORCACHE_API_KEY (required) and VECTORCACHE_BASE_URL (optional).
    let client = Client::from_env()?;

    for prompt in ["What is machine learning?", "what is machine learning"] {
        let request = QueryRequest::new(prompt, "gpt-4o").similarity_threshold(0.85);
        match client.query(request).await {
            Ok(answer) if answer.cache_hit => println!(
                "HIT  {prompt:?} similarity={:.3} saved=${:.6}",
                answer.similarity_score.unwrap_or_default(),
                answer.cost_saved
            ),
            Ok(answer) => println!("MISS {prompt:?} answered by {}", answer.llm_provider),
            Err(Error::Authentication(e)) => {
                eprintln!("check VECTORCACHE_API_KEY: {}", e.detail);
                return Err(Error::Authentication(e));
            }
            Err(Error::RateLimited(e)) => eprintln!("rate limited, retry in {:?}", e.retry_after),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
