"""Reads of moderation: reports and verdicts about a subject, for the staff queue."""

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from .models import Report, Verdict


def open_reports(*, subject: str) -> QuerySet:
    """Reports staff have not decided on yet."""
    return Report.objects.filter(subject=subject, resolved_at__isnull=True)


def open_report_subject_ids(*, subject: str) -> list[str]:
    """The ids of the subjects with open reports (what the staff queue lists besides the works under review)."""
    return list(open_reports(subject=subject).order_by().values_list("subject_id", flat=True).distinct())


def reports_of(*, subject: str, subject_id) -> list[Report]:
    return list(Report.objects.filter(subject=subject, subject_id=str(subject_id)).select_related("user"))


def verdicts_of(*, subject: str, subject_id, limit: int = 20) -> list[Verdict]:
    return list(Verdict.objects.filter(subject=subject, subject_id=str(subject_id))[:limit])


def report_reasons(*, subject: str, subject_ids: Iterable) -> dict[str, dict[str, int]]:
    rows = (
        open_reports(subject=subject)
        .filter(subject_id__in=[str(pk) for pk in subject_ids])
        .values("subject_id", "reason")
        .annotate(count=Count("pk"))
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["subject_id"], {})[row["reason"]] = row["count"]
    return out
