# Brug: `make serve` and `make test` work on a fresh machine; they bootstrap .venv themselves.
# The system's interpreter when it is a supported version that can make a venv, else python3 on
# PATH. Debian's /usr/bin/python3 is an optimised static build; the pyenv build that comes first
# on PATH on these machines links libpython as a shared library without optimisation and costs
# about a quarter more CPU per request (bench/results/signup.md). `make PYTHON=...` chooses.
PYTHON ?= $(shell /usr/bin/python3 -c 'import ensurepip, sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' >/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JS     := tests/js
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Links in e-mails and feeds (also the demo data's, rendered by `make db`) point here.
PUBLIC_URL = $${BRUG_PUBLIC_URL:-http://$(HOST):$(PORT)}
FLASK  := $(BIN)/flask --app forms_backend
PYTEST_ARGS ?= -n 2 --durations=25

.PHONY: install build db serve test bench clean lint js

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Node tools for tests (ical.js, axe-core, vnu-jar) from the npm registry; no lock file is kept.
$(JS)/node_modules/.installed: $(JS)/package.json
	cd $(JS) && npm install --no-package-lock --no-audit --no-fund --loglevel=error
	@touch $@

js: $(JS)/node_modules/.installed

# A fresh release in build/releases/<stamp>; build/site is switched to it atomically (symlink).
build: $(STAMP)
	BRUG_PUBLIC_URL=$(PUBLIC_URL) $(BIN)/python -m forms_backend.publishing publish

instance/secret_key:
	@mkdir -p instance
	@$(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $@
	@chmod 600 $@

db: $(STAMP) instance/secret_key
	@BRUG_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) init-db
	@BRUG_SECRET_KEY=$$(cat instance/secret_key) BRUG_PUBLIC_URL=$(PUBLIC_URL) $(FLASK) demo-data --if-empty

serve: build db
	@BRUG_SECRET_KEY=$$(cat instance/secret_key) BRUG_PUBLIC_URL=$(PUBLIC_URL) BRUG_SESSION_COOKIE_SECURE=$${BRUG_SESSION_COOKIE_SECURE:-false} BRUG_MAIL_TRANSPORT=$${BRUG_MAIL_TRANSPORT:-console} \
		$(FLASK) serve --host $(HOST) --port $(PORT)

# Linters first, so CI (.ci/run runs `make test`) fails on a lint regression before any test runs.
# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
test: $(STAMP) lint js build
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$status

# mypy checks the benchmarks too: CI does not run `make bench`, so a changed helper would break
# it unseen (bench_lighthouse did, until this check).
lint: $(STAMP)
	$(BIN)/ruff check forms_backend tests site bench
	$(BIN)/mypy
	$(BIN)/mypy --explicit-package-bases bench

bench: $(STAMP) js
	@set -e; for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done
	@echo "Resultaten staan in bench/results/."

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache bench/work test-artifacts
