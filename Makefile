# The two set-up commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test install install-test translations db demo worker bench clean serve load security faults

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory translations

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory translations

translations:
	@if ls portal/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d portal/translations 2>&1 | grep -v '^compiling' || true; fi

db:
	$(BIN)/flask db upgrade

demo:
	$(BIN)/flask demo load

# Serve the portal on http://127.0.0.1:5000 with the worker in the background: it sends the
# outbox every 5 seconds and sweeps the deadlines (reminders, escalations) every minute.
run: install db demo
	@echo "Portal: http://127.0.0.1:5000  (staff sign-in: /staf/masuk, see README for accounts)"
	@$(BIN)/flask outbox work --interval 5 --sweep-interval 60 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000

# The whole suite, on SQLite and on a throw-away PostgreSQL, with real Chromium.
test: install-test
	@bash scripts/ensure-test-tools.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# BENCH=pages (or duplicates, offline, throughput) runs one benchmark; BENCH_ARGS its options.
BENCH ?=
bench: install-test
	$(BIN)/python -m benchmarks$(if $(BENCH),.$(BENCH)) $(BENCH_ARGS)
	$(if $(BENCH),,$(BIN)/python -m benchmarks.pages $(BENCH_ARGS))

# The production stack on this machine: gunicorn (gunicorn.conf.py) + a throw-away PostgreSQL on
# 127.0.0.1, migrated, with the demo data, an SMTP sink and the outbox worker; Ctrl-C removes it.
serve: install-test
	@bash scripts/ensure-test-tools.sh
	$(BIN)/python -m ops.stack $(SERVE_ARGS)

# Load test against that stack (bounded: 60 s by default, loopback only); LOAD_ARGS=--write
# records the figures in docs/PERFORMANCE.md.
load: install-test
	@bash scripts/ensure-test-tools.sh
	$(BIN)/python -m ops.load $(LOAD_ARGS)

# sqlmap against the public forms and the APIs of that stack; fails if anything is injectable.
security: install-test
	@bash scripts/ensure-test-tools.sh sqlmap
	$(BIN)/python -m ops.security $(SECURITY_ARGS)

# Fault drills against that stack: PostgreSQL restarted under load, a worker killed mid-filing.
faults: install-test
	@bash scripts/ensure-test-tools.sh
	$(BIN)/python -m ops.faults $(FAULTS_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
