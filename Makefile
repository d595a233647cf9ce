# Two set-up commands: `make serve` and `make test`. Both create .venv and install everything.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install serve worker test test-fast bench examples clean

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/autograder serve --host 127.0.0.1 --port 8000

# Redis mode: `AUTOGRADER_REDIS_URL=redis://127.0.0.1:6379/0 make serve` plus one or more of these.
worker: $(STAMP)
	$(VENV)/bin/autograder worker

test: $(STAMP)
	$(PY) -m pytest -q

# The quick loop while developing: everything but the slow end-to-end tests.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

examples: $(STAMP)
	$(PY) ../shared/tools/check_examples.py --cli $(VENV)/bin/autograder

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
