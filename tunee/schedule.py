"""Every periodic (beat) job, in one place: what runs, how often, on which queue.

Plain Python: settings build `CELERY_BEAT_SCHEDULE = beat_schedule(globals())` once every interval is read, so the
intervals stay settings (environment variables) and this table is the only list of jobs. A new periodic job is one
line here; its task lives in its app's `tasks.py`.
"""

from collections.abc import Mapping

from celery.schedules import crontab

from . import queues


def every(seconds: float, task: str, queue: str, *, expires: float | None = None) -> dict:
    """Run `task` every `seconds` on `queue`. A run still waiting when the next is due is dropped (`expires`, 90 %
    of the interval unless given), so a stopped worker does not find a pile of identical jobs when it comes back."""
    return {"task": task, "schedule": seconds, "options": {"queue": queue, "expires": expires or seconds * 0.9}}


def daily(hour: int, minute: int, task: str, queue: str) -> dict:
    """Run `task` once a day at hour:minute in CELERY_TIMEZONE (the business time zone); a run not started within
    the hour is dropped."""
    return {"task": task, "schedule": crontab(hour=hour, minute=minute), "options": {"queue": queue, "expires": 3600}}


def beat_schedule(s: Mapping) -> dict:
    """The schedule, from the settings' namespace `s` (the intervals they read from the environment)."""
    return {
        # fail and refund stuck generations, re-send lost jobs (generation/tasks.py)
        "generation-sweep": every(s["GENERATION_SWEEP_INTERVAL"], "generation.sweep", queues.DEFAULT),
        # the Suno gateway's credits left, for the tunee_suno_credits gauge (generation/tasks.py)
        "generation-suno-credits": every(s["SUNO_CREDITS_INTERVAL"], "generation.suno_credits", queues.DEFAULT),
        # media checks with no verdict go to staff; verdicts past their retention go (moderation/tasks.py)
        "moderation-purge": every(3600.0, "moderation.purge", queues.DEFAULT, expires=3000.0),
        # close expired orders, here and at the provider (payments/tasks.py)
        "payments-close-expired": every(s["PAYMENT_EXPIRY_INTERVAL"], "payments.close_expired_orders", queues.PAYMENTS),
        # ask the providers about unpaid orders (payments/tasks.py)
        "payments-reconcile": every(s["PAYMENT_RECONCILE_INTERVAL"], "payments.reconcile", queues.PAYMENTS),
        # SMS codes, refresh tokens, ended sessions, notifications past their retention (tunee/tasks.py)
        "purge-expired": daily(4, 10, "tunee.purge_expired", queues.DEFAULT),
        # the statistics snapshot of the business day that just ended (stats/tasks.py)
        "stats-snapshot-yesterday": daily(0, 20, "stats.snapshot_yesterday", queues.STATS),
    }
