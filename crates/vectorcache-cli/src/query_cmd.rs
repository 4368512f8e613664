//! `vectorcache query`: one cache lookup through the core client.

use vectorcache::bindings::{duration_from_secs_f64, retries_from_i64};
use vectorcache::{ClientBuilder, ClientOptions, Error, QueryRequest};

use crate::args::QueryArgs;
use crate::console::outln;
use crate::{exit, output};

pub async fn run(args: QueryArgs) -> u8 {
    match query(&args).await {
        Ok(answer) => {
            if args.json {
                outln!("{}", output::answer_json(&answer));
            } else {
                outln!("{}", output::describe(&answer));
            }
            exit::SUCCESS
        }
        Err(error) => output::report_error(&error, args.json),
    }
}

async fn query(args: &QueryArgs) -> Result<vectorcache::QueryResponse, Error> {
    let mut options = ClientOptions::default();
    options.user_agent_suffix = Some(concat!("vectorcache-cli/", env!("CARGO_PKG_VERSION")).into());
    options.base_url = args.base_url.clone();
    options.timeout = args
        .timeout
        .map(|secs| duration_from_secs_f64("--timeout", secs).map_err(Error::invalid_config))
        .transpose()?;
    options.max_retries = args
        .max_retries
        .map(|n| retries_from_i64("--max-retries", n).map_err(Error::invalid_config))
        .transpose()?;
    // The CLI has no option for a CA: the environment is how its user trusts one.
    options.trust_advice = Some(
        "to trust its CA, point SSL_CERT_FILE (or SSL_CERT_DIR) at its PEM certificate".into(),
    );
    let client = ClientBuilder::from(options).build()?;
    let mut request = QueryRequest::new(&args.prompt, &args.model);
    request.include_debug = args.debug.then_some(true);
    request.context = args.context.clone();
    request.similarity_threshold = args.threshold;
    request.project_id = args.project.clone();
    client.query(request).await
}
