//! Model families: which provider serves a model, and what a call would have cost.

/// USD per one million tokens: (model id prefix, input price, output price).
///
/// Matched by prefix, longest first, so dated ids such as `claude-3-5-sonnet-20241022` and
/// variants such as `gpt-4o-mini` find their row.
const PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4-turbo", 10.00, 30.00),
    ("gpt-4", 30.00, 60.00),
    ("gpt-3.5-turbo", 0.50, 1.50),
    ("o1-mini", 1.10, 4.40),
    ("o1", 15.00, 60.00),
    ("o3-mini", 1.10, 4.40),
    ("o3", 2.00, 8.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
    ("claude-3-opus", 15.00, 75.00),
    ("claude-3-haiku", 0.25, 1.25),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-opus-4", 15.00, 75.00),
    ("gemini-1.5-flash", 0.075, 0.30),
    ("gemini-1.5-pro", 1.25, 5.00),
    ("gemini-2.0-flash", 0.10, 0.40),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("gemini-2.5-flash", 0.30, 2.50),
];

/// Prices for models not in the table (USD per 1M input / output tokens).
const DEFAULT_PRICE: (f64, f64) = (1.00, 3.00);

/// The smallest saving reported for a hit: a hit always saves something.
const MIN_COST_SAVED: f64 = 0.000_001;

/// The provider that serves `model`, as reported in `llm_provider` on a miss.
pub fn provider_for(model: &str) -> &'static str {
    let m = model.trim().to_ascii_lowercase();
    if m.starts_with("gpt-") || m.starts_with("o1") || m.starts_with("o3") {
        "openai"
    } else if m.starts_with("claude-") {
        "anthropic"
    } else if m.starts_with("gemini-") {
        "google"
    } else {
        "unknown"
    }
}

/// (input, output) USD per 1M tokens for `model`.
pub fn prices_for(model: &str) -> (f64, f64) {
    let m = model.trim().to_ascii_lowercase();
    PRICES
        .iter()
        .filter(|(prefix, _, _)| m.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|&(_, input, output)| (input, output))
        .unwrap_or(DEFAULT_PRICE)
}

/// Rough token estimate used by the docs: about four characters per token (at least one).
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// Estimated USD a call of `model` with this prompt and answer would have cost, rounded to
/// 6 decimals and never 0 (it is what a cache hit saved).
pub fn cost_saved(model: &str, prompt: &str, response: &str) -> f64 {
    let (input, output) = prices_for(model);
    let usd = (estimate_tokens(prompt) as f64 * input + estimate_tokens(response) as f64 * output)
        / 1_000_000.0;
    ((usd * 1_000_000.0).round() / 1_000_000.0).max(MIN_COST_SAVED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers() {
        assert_eq!(provider_for("gpt-4o"), "openai");
        assert_eq!(provider_for("o1-preview"), "openai");
        assert_eq!(provider_for("o3-mini"), "openai");
        assert_eq!(provider_for("claude-3-5-sonnet-20241022"), "anthropic");
        assert_eq!(provider_for("gemini-1.5-pro"), "google");
        assert_eq!(provider_for("llama-3"), "unknown");
    }

    #[test]
    fn prices_match_longest_prefix() {
        assert_eq!(prices_for("gpt-4o-mini-2024-07-18"), (0.15, 0.60));
        assert_eq!(prices_for("gpt-4o"), (2.50, 10.00));
        assert_eq!(prices_for("claude-3-5-sonnet-20241022"), (3.00, 15.00));
        assert_eq!(prices_for("mystery"), DEFAULT_PRICE);
    }

    #[test]
    fn cost_is_rounded_and_positive() {
        // 40 chars -> 10 tokens in, 400 chars -> 100 tokens out with gpt-4o:
        // 10 * 2.5e-6 + 100 * 10e-6 = 0.001025.
        let cost = cost_saved("gpt-4o", &"a".repeat(40), &"b".repeat(400));
        assert!((cost - 0.001_025).abs() < 1e-12, "{cost}");
        assert_eq!(cost_saved("gemini-1.5-flash", "a", "b"), MIN_COST_SAVED);
    }
}
