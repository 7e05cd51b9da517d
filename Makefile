# One entry for every chore. README names `make demo` and `make test`; CI runs `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/lib/chromium/chromium
HEADLESS_SHELL := /usr/lib/chromium/chromium-headless-shell
SOFFICE := /usr/bin/soffice
GPG := /usr/bin/gpg
STAMP := $(VENV)/.installed

.PHONY: setup demo demo-stop test bench lint clean sandbox

setup: $(STAMP) $(CHROMIUM) $(HEADLESS_SHELL) $(SOFFICE) $(GPG)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Debian's chromium (the headless shell is what bots run headless, chromedriver is for the
# Selenium baseline); Playwright's own browser download is not used. LibreOffice (headless,
# no GUI) turns DOCX letters into the PDF the citizen receives; gnupg encrypts reply mails.
$(CHROMIUM) $(HEADLESS_SHELL) $(SOFFICE) $(GPG):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-headless-shell chromium-driver libreoffice-writer-nogui gnupg >/dev/null

# Musterstadt + Prefect server + worker under var/demo, one hundesteuer run; keeps running.
demo: setup
	$(BIN)/python -m demo

demo-stop: setup
	$(BIN)/python -m demo stop

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench

# lint-imports checks the layer contracts in pyproject.toml ([tool.importlinter]).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

sandbox: setup
	$(BIN)/python -m sandbox up

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
