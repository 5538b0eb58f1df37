# Production image: gunicorn behind your proxy, a non-root user, static files collected at build time.
# The same image runs the worker (`celery -A tunee worker -Q "$(python -m tunee.queues)"`: every queue) and beat
# (`celery -A tunee beat`); see docker-compose.yml. Logs are JSON lines on stdout (LOG_FORMAT).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no real secrets or services.
RUN DEBUG=0 SECRET_KEY=collectstatic-only ALLOW_LOCAL_CACHE=1 python manage.py collectstatic --noinput \
    && useradd --system --create-home --uid 10001 tunee \
    && mkdir -p /app/var && chown -R tunee:tunee /app/var

USER tunee
EXPOSE 8000
ENV DEBUG=0
CMD ["gunicorn", "tunee.wsgi", "--config", "gunicorn.conf.py"]
