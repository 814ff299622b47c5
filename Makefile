# One entry point for people and CI. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test install lint format imports types types-report check lock clean \
	prod-like prod-like-stop load-test load-test-long faults

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

## Command 1: the whole demo on SQLite with a local mailbox (Ctrl-C stops everything).
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo_data
	@if [ -f ceres/manage.py ]; then $(BIN)/python ceres/manage.py migrate --noinput; fi
	$(BIN)/python -m portail.devtools.demo

## Command 2: the whole test suite (browser tests need /usr/bin/chromium; .ci/run installs it).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The layers of docs/architecture.md (import-linter's contracts in pyproject.toml).
LINT_IMPORTS = $(BIN)/lint-imports --no-logo --cache-dir var/import_linter_cache
imports: $(STAMP)
	$(LINT_IMPORTS)

## Types: mypy with django-stubs, the portal (pyproject.toml) then CERES (its own settings).
types: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file ceres/mypy.ini ceres

## The share of typed functions, lines and expressions, per app (reports in var/mypy-report/).
types-report: $(STAMP)
	$(BIN)/python -m portail.devtools.type_coverage

## What CI checks besides the tests (the import contracts last: every other check runs first).
check: $(STAMP) lint types
	$(BIN)/python manage.py makemigrations --check --dry-run
	@if [ -f ceres/manage.py ]; then $(BIN)/python ceres/manage.py makemigrations --check --dry-run; fi
	DJANGO_SETTINGS_MODULE=portail.settings.prod SECRET_KEY=ci-dummy-secret-key-with-enough-length-and-entropy-0123456789abcdef \
	  ALTCHA_HMAC_KEY=ci-dummy CODE_HASH_KEY=ci-dummy OIDC_RSA_PRIVATE_KEY=ci-dummy ALLOWED_HOSTS=portail.example \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(LINT_IMPORTS)

## Production-shaped run on this machine, loopback only (scripts/prodlike.py; docs/deploy.md):
## PostgreSQL and Redis of its own, 2 gunicorn instances × 2 workers over TLS, CERES, 2 email
## workers, the local mailbox as SMTP. Returns when ready; prod-like-stop stops everything.
prod-like: $(STAMP)
	$(BIN)/python scripts/prodlike.py start

prod-like-stop:
	$(BIN)/python scripts/prodlike.py stop

## Mixed-traffic load test against prod-like (bench/load/): short form (CI) and long form.
load-test: $(STAMP)
	$(BIN)/python -m bench.load.run --users 6 --duration 30

load-test-long: $(STAMP)
	$(BIN)/python -m bench.load.run --users 30 --duration 300

## Each fault of bench/faults/ during the load, with its after-checks.
faults: $(STAMP)
	$(BIN)/python -m bench.faults.run

## Regenerate the lock file after changing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --universal -o requirements.lock

clean:
	rm -rf $(VENV) var
