"""Prometheus metrics of moderation, in prometheus_client's default registry (exported at /metrics by
django-prometheus)."""

from prometheus_client import Counter

VERDICTS = Counter(
    "tunee_moderation_verdicts_total",
    "Content screening verdicts, by where the content came from and the outcome",
    ["source", "outcome"],
)
