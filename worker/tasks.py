"""Thin task adapters over the domain modules. Tasks take ids and re-read the world."""

from __future__ import annotations

from celery import shared_task

from service import maintenance, publishing


@shared_task(name="publishing.publish_due")
def publish_due() -> list[int]:
    return publishing.publish_due()


@shared_task(name="maintenance.prune_broker")
def prune_broker() -> int:
    return maintenance.prune_broker()


@shared_task(name="maintenance.ping")
def ping(token: str) -> str:
    """Record that a worker ran (used by the health check and the round-trip test)."""
    maintenance.heartbeat(token)
    return token
