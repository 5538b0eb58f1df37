from celery import shared_task


@shared_task(name="tunee.ping", queue="default")
def ping() -> str:
    """A no-op job: `celery -A tunee call tunee.ping` checks that a worker consumes the queues."""
    return "pong"
