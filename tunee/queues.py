"""The Celery queue names, defined once: settings (CELERY_TASK_QUEUES, the beat schedule), the Celery app, every task
that enqueues, `make run`'s worker, docker-compose and bench/ read them from here. Plain Python (settings import it).

A queue per kind of work, so one kind cannot starve another: members' generations jump the line through
`generation_priority`; photo processing (thumbnails, WeChat avatar copies) has `files`, the statistics snapshot `stats`.
"""

GENERATION_PRIORITY = "generation_priority"  # members' generations
GENERATION = "generation"  # everyone else's
PAYMENTS = "payments"  # order expiry, reconciliation
NOTIFICATIONS = "notifications"  # SMS codes, account mails, song-ready messages
FILES = "files"  # photo processing: works.process, accounts' WeChat avatar copy
STATS = "stats"  # the daily statistics snapshot
DEFAULT = "default"  # everything else (sweepers, housekeeping, moderation submissions)

# Every queue, highest priority first: what a worker consumes (`celery worker -Q` lists them in this order).
ALL = (GENERATION_PRIORITY, GENERATION, PAYMENTS, NOTIFICATIONS, FILES, STATS, DEFAULT)


def worker_arg() -> str:
    """The value of `celery worker -Q` for a worker consuming every queue."""
    return ",".join(ALL)


if __name__ == "__main__":  # `python -m tunee.queues` prints the -Q value (docker-compose, shell scripts)
    print(worker_arg())
