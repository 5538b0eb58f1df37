"""Database helpers shared by the apps."""

from django.db import connection


def client_binding_cursor():
    """A cursor of the default connection that binds its parameters on the client (psycopg's `ClientCursor`,
    Django's default), whatever `server_side_binding` says: the one kind that can send several statements in one
    query string, which PostgreSQL then runs as one transaction (generation's one-round-trip create).

    Made and wrapped as `connection.cursor()` makes and wraps its cursors (`BaseDatabaseWrapper._cursor`), so health
    checks, query logging, `execute_wrapper`s and error translation apply the same."""
    from django.db.backends.postgresql.base import Cursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
