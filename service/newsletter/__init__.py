"""The newsletter: subscriptions, the delivery ledger (planning, claims and marks, sending,
sweeps), composing issue and digest emails, the shared send rate, bounces."""

from typing import Any

#: The run-time settings of this capability and their defaults (core/settings.py).
SETTINGS: dict[str, Any] = {
    "newsletter.min_form_seconds": 2,  # time trap on the subscribe form
    "newsletter.batch_size": 100,  # rows a worker claims at once
    "newsletter.lease_seconds": 300,  # a claim older than this (worker died) is re-queued
    "newsletter.max_attempts": 8,  # temporary failures before a row is failed
    "newsletter.retry_base_seconds": 60,  # backoff: base·2^(n-1), with jitter
    "newsletter.pause_after_errors": 50,  # a send pauses itself after this many errors
    "newsletter.parallel_tasks": 2,  # drain tasks enqueued per send (workers sharing it)
    "newsletter.rate_per_second": 0,  # per SMTP server, shared by all workers; 0: no limit
    "newsletter.digest_hour": 8,  # local hour (TIMEZONE) at which digests fall due
    "newsletter.digest_weekday": 0,  # 0 = Monday … 6 = Sunday, for weekly digests
    "newsletter.digest_comments": 5,  # most discussed comments in a digest
}
