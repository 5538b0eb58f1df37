"""Fixtures of the generation tests: the pipeline's (fast settings, a fake Suno gateway, a real Celery worker)."""

from .pipeline_fixtures import celery_worker, fast_pipeline, gateway_server, song_files, suno  # noqa: F401
