"""The CT watcher's gauges for GET /metrics (registered with smishguard.metrics in ``WatchConfig.ready()``), read
from its checkpoints (``LogState``) at scrape time, one row per source; replays are left out.

* ``smishguard_ct_entries_behind{log}``: entries between the watcher's position and the last verified tree head
  (``LogState.lag``); absent before the first tree head.
* ``smishguard_ct_checkpoint_age_seconds{log}``: since the watcher last saved its position or a tree head for the
  log: a value that keeps growing means ``smishguard watch ct`` is stopped or stuck.
* ``smishguard_ct_tree_head_age_seconds{log}``: the age of the last verified tree head (its own timestamp).

``log`` is the log's description, else its key (a certstream URL with any secret query value redacted).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from smishguard.redaction import redact_text
from smishguard.watch.models import LogState


def collect() -> Iterable[Metric]:
    now = timezone.now()
    behind = GaugeMetricFamily(
        "smishguard_ct_entries_behind", "CT entries behind the log's last verified tree head", labels=["log"]
    )
    checkpoint_age = GaugeMetricFamily(
        "smishguard_ct_checkpoint_age_seconds", "Seconds since the watcher last saved its checkpoint", labels=["log"]
    )
    head_age = GaugeMetricFamily(
        "smishguard_ct_tree_head_age_seconds", "Age of the last verified tree head, in seconds", labels=["log"]
    )
    states = LogState.objects.exclude(api=LogState.Api.REPLAY).only(
        "key", "description", "next_index", "tree_size", "tree_head_at", "updated_at"
    )
    for state in states:
        label = [redact_text(state.description or state.key)]
        if state.lag is not None:
            behind.add_metric(label, state.lag)
        checkpoint_age.add_metric(label, max(0.0, (now - state.updated_at).total_seconds()))
        if state.tree_head_at is not None:
            head_age.add_metric(label, max(0.0, (now - state.tree_head_at).total_seconds()))
    return [behind, checkpoint_age, head_age]
