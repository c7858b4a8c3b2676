"""Background tasks (django-tasks, database backend): webhook delivery of new alerts, off the reader's path.

``smishguard worker`` (or any django-tasks-db worker on the default queue) runs them.
"""

from __future__ import annotations

from django_tasks import task

from smishguard.watch import sinks


@task()
def deliver_alert_webhook(delivery_id: int, max_attempts: int = 8) -> str:
    """POST one new alert to its webhook; a failure re-queues itself with backoff (see ``sinks``)."""
    return sinks.deliver_webhook(delivery_id, max_attempts)
