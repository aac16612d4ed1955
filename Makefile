# The two commands of the quick start are `make demo` and `make test`; both build the environment
# they need on a fresh clone. `make .venv` builds the environment only; `make bench` runs the
# benchmarks (kept out of `make test`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .tools/checkov
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: .venv demo test lint typecheck imports template-lint statemachine-lint browser unit integration e2e bench clean

.venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -e '.[dev]'
	@touch $@

$(CHECKOV_VENV)/.installed: pyproject.toml
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) "$$(sed -n 's/^checkov = \["\(checkov==[^"]*\)"\]/\1/p' pyproject.toml)"
	@touch $@

demo: $(VENV)/.installed browser
	$(BIN)/receivables demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy layers/core infra functions tests

# The packages' dependency contracts ([tool.importlinter] in pyproject.toml).
imports: $(VENV)/.installed
	$(BIN)/lint-imports

template-lint: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

# The Amazon States Language linter (asl-validator, pinned in tools/asl/package-lock.json) runs on
# Node; where npm is missing it is installed from Debian's packages first.
ASL := tools/asl/node_modules
$(ASL)/.installed: tools/asl/package-lock.json
	@command -v npm >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
		$$SUDO apt-get install -y -qq nodejs npm >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }; }
	npm ci --prefix tools/asl --no-audit --no-fund --silent
	@touch $@

statemachine-lint: $(ASL)/.installed
	@for definition in statemachines/*.asl.json; do \
		$(ASL)/.bin/asl-validator --json-path "$$definition" || exit 1; done

# The browser tests drive Debian's chromium; install it where it is missing (as root, or with
# sudo). Where neither works the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else SUDO=false; fi; \
		$$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1; } || \
		echo "chromium could not be installed: the browser tests will be skipped"; }

test: lint typecheck imports template-lint statemachine-lint browser
	$(BIN)/pytest -n 2 --dist loadgroup tests/unit tests/integration tests/e2e

bench: $(VENV)/.installed
	$(BIN)/pytest -q -s -p no:randomly tests/benchmarks

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache build *.egg-info
