"""What to do when a verdict about a subject arrives later (a WeChat media push, a media check that timed out).

Moderation does not import the apps above it: each app with something to do about a subject registers its handler
from its AppConfig.ready (`works` for "work" and for "generation", the finished song of a work; `accounts` for
"avatar"), and moderation calls every handler of the subject with the subject's id and the verdict. A subject
without a handler is only logged.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Handler = Callable[..., None]  # handler(subject_id=..., field=..., outcome=..., label=..., file_name=...)
_handlers: dict[str, list[Handler]] = {}


def register(subject: str, handler: Handler) -> None:
    """Idempotent: registering the same handler twice (AppConfig.ready run again) keeps one."""
    handlers = _handlers.setdefault(subject, [])
    if handler not in handlers:
        handlers.append(handler)


def dispatch(*, subject: str, subject_id: str, field: str, outcome: str, label: str, file_name: str = "") -> None:
    handlers = _handlers.get(subject)
    if not handlers:
        logger.warning("moderation: no handler for %s verdicts (%s %s)", subject, subject_id, outcome)
        return
    for handler in handlers:
        handler(subject_id=subject_id, field=field, outcome=outcome, label=label, file_name=file_name)
