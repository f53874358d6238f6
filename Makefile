# The two commands: `make demo` (the navigator on a bundled sample patient) and `make test`.
# Both bootstrap a virtual environment from the lock file on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/myelonav demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script --quick || exit 1; done

# Re-pin every dependency after editing pyproject.toml.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet --disable-pip-version-check 'setuptools>=77' -e '.[dev]'
	.lockenv/bin/pip freeze --all --exclude-editable | grep -v -E '^(myelonav|pip)==' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
