"""Quick start: a client from the environment, a miss, then a hit, and typed errors.

Run it against the local emulator:

    cargo run -p vectorcache-cli -- emulator      # prints the two exports below
    export VECTORCACHE_BASE_URL=http://127.0.0.1:8787
    export VECTORCACHE_API_KEY=vc_...
    python examples/python/quickstart.py
"""

from __future__ import annotations

import sys

from vectorcache import (
    AuthenticationError,
    ConfigurationError,
    RateLimitError,
    VectorcacheClient,
    VectorcacheError,
)


def main() -> int:
    try:
        # VECTORCACHE_API_KEY (required) and VECTORCACHE_BASE_URL (optional).
        client = VectorcacheClient()
    except ConfigurationError as e:
        print(f"configuration: {e}", file=sys.stderr)
        return 3

    with client:
        for prompt in ["What is machine learning?", "What is machine learning?"]:
            try:
                result = client.query(prompt=prompt, model="gpt-4o", similarity_threshold=0.85)
            except AuthenticationError as e:
                print(f"check VECTORCACHE_API_KEY: {e.message}", file=sys.stderr)
                return 5
            except RateLimitError as e:
                print(f"rate limited, retry in {e.retry_after} s", file=sys.stderr)
                return 7
            except VectorcacheError as e:
                print(f"error {e.status_code}: {e.message}", file=sys.stderr)
                return 1
            if result.cache_hit:
                score = result.similarity_score or 0.0
                print(f"HIT  {prompt!r} similarity={score:.3f} saved=${result.cost_saved:.6f}")
            else:
                print(f"MISS {prompt!r} answered by {result['llm_provider']}")
            print(f"     {result['response'][:72]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
