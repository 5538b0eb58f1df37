"""Shared API plumbing: envelope, errors, exception handler, pagination, ids, schema hooks. No domain code here."""
