//! `vectorcache query`: one cache lookup through the core client.

use vectorcache::{duration_from_secs_f64, Client, Error, QueryRequest};

use crate::args::QueryArgs;
use crate::{exit, output};

pub async fn run(args: QueryArgs) -> u8 {
    match query(&args).await {
        Ok(answer) => {
            if args.json {
                println!("{}", output::answer_json(&answer));
            } else {
                println!("{}", output::describe(&answer));
            }
            exit::SUCCESS
        }
        Err(error) => output::report_error(&error, args.json),
    }
}

async fn query(args: &QueryArgs) -> Result<vectorcache::QueryResponse, Error> {
    let mut builder =
        Client::builder().user_agent_suffix(concat!("vectorcache-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(url) = &args.base_url {
        builder = builder.base_url(url);
    }
    if let Some(secs) = args.timeout {
        builder = builder.timeout(duration_from_secs_f64("--timeout", secs)?);
    }
    if let Some(retries) = args.max_retries {
        builder = builder.max_retries(retries);
    }
    let client = builder.build()?;
    let mut request = QueryRequest::new(&args.prompt, &args.model).include_debug(args.debug);
    if let Some(context) = &args.context {
        request = request.context(context);
    }
    if let Some(threshold) = args.threshold {
        request = request.similarity_threshold(threshold);
    }
    if let Some(project) = &args.project {
        request = request.project_id(project);
    }
    client.query(request).await
}
