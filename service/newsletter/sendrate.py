"""A token bucket per SMTP server shared by every worker on every host.

Redis (an atomic Lua script) when SENDRATE_URL / the broker is Redis; otherwise a row per server
in the database, updated by compare-and-swap so it works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from service.core.db import rowcount
from service.extensions import db
from service.models import SendRate

LUA = """
local rate, burst, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local t = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens, updated = tonumber(t[1]) or burst, tonumber(t[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return granted
"""


class Bucket:
    """`rate` tokens per second, at most `burst` saved up; rate 0 means no limit."""

    def __init__(
        self,
        key: str,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.time,
        url: str | None = None,
    ):
        self.key, self.rate = key, float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self.clock, self.reserve = clock, 0
        self.redis = None
        url = url if url is not None else redis_url()
        if url:
            import redis  # only a Redis send rate needs the client (keeps start-up light)

            self.redis = redis.Redis.from_url(url)
            self.script = self.redis.register_script(LUA)

    def take(self, want: int = 1) -> int:
        """Take up to `want` tokens now; return how many were granted (maybe 0)."""
        if self.rate <= 0:
            return want
        want = max(1, min(want, int(self.burst)))
        if self.redis is not None:
            return int(
                self.script(
                    keys=[f"margins:sendrate:{self.key}"],
                    args=[self.rate, self.burst, self.clock(), want],
                )
            )
        return self._take_db(want)

    def _take_db(self, want: int) -> int:
        for _ in range(50):
            now = self.clock()
            with db.engine.begin() as conn:
                row = conn.execute(
                    select(SendRate.tokens, SendRate.updated).where(SendRate.key == self.key)
                ).first()
                if row is None:
                    try:
                        conn.execute(
                            insert(SendRate).values(key=self.key, tokens=self.burst, updated=now)
                        )
                    except IntegrityError:
                        pass
                    continue
                tokens = min(self.burst, row.tokens + max(0.0, now - row.updated) * self.rate)
                granted = min(want, int(tokens))
                swapped = rowcount(
                    conn.execute(
                        update(SendRate)
                        .where(
                            SendRate.key == self.key,
                            SendRate.tokens == row.tokens,
                            SendRate.updated == row.updated,
                        )
                        .values(tokens=tokens - granted, updated=max(now, row.updated))
                    )
                )
            if swapped:
                return granted
        return 0

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Block until one message may go out (tokens are fetched a few at a time)."""
        if self.rate <= 0:
            return
        while self.reserve <= 0:
            self.reserve = self.take(max(1, int(self.rate // 10)))
            if self.reserve <= 0:
                sleep(min(1.0, 1.0 / self.rate))
        self.reserve -= 1


def redis_url() -> str | None:
    """SENDRATE_URL, else the broker when it is Redis; None means the database."""
    url = current_app.config.get("SENDRATE_URL") or current_app.config.get("CELERY_BROKER_URL", "")
    return url if url.startswith(("redis://", "rediss://")) else None
