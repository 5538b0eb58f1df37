"""Test helpers shared by every app's tests (imported by tests only)."""

import threading

from django.db import connections


def race(*calls, timeout: float = 60) -> list:
    """Run the callables at the same moment, each in its own thread (and so its own database connection), released
    together by a barrier. Returns, in order, what each returned or the exception it raised; every thread's
    connections are closed when it ends."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except BaseException as exc:  # returned to the test, which asserts on it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcomes


def race_results(*calls, timeout: float = 60) -> list:
    """`race`, re-raising the first exception a call raised."""
    outcomes = race(*calls, timeout=timeout)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


def split(outcomes: list) -> tuple[list, list]:
    """(results, exceptions) of `race`'s outcomes."""
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return [o for o in outcomes if not isinstance(o, BaseException)], errors
