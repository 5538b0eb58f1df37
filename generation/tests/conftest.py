"""Fixtures of the generation tests: the pipeline's (fast settings, a fake Suno gateway, a real Celery worker)."""

from .pipeline_fixtures import (  # noqa: F401
    celery_worker,
    fast_pipeline,
    gateway_server,
    jobs,
    openai_vision,
    song_files,
    suno,
)
