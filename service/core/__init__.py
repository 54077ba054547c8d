"""What every capability builds on and that knows nothing of them: settings, tokens, links,
rendering, addresses, the audit log, database helpers, backoff, enqueueing by name."""
