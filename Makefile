# Two commands: `make run` and `make test`. Both set up .venv from requirements*.txt when needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format venv browser migrate demo clean bench

venv: $(STAMP)

# Re-installs only when a requirements file changed (or the venv is new): quick when nothing changed.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# Browser tests drive Debian's chromium through Playwright; install it when missing (root on Debian).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium for the browser tests…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: browser tests will fail"; \
	  else echo "chromium is missing: install Debian's chromium package for the browser tests"; fi; \
	fi

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) scripts/run.py

test: venv browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Load test of the hot endpoints beside a bare Django view (bench/http.py; PostgreSQL and Redis must be up), then the
# local music provider's speed. Installs wrk (Debian) when missing.
bench: venv
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/http.py $(BENCH_ARGS)
	$(PY) bench/render_music.py --durations 30

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
