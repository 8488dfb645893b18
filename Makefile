# The README's commands. Each target bootstraps first (Debian packages, .venv).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
OUT ?= out/demo

.PHONY: bootstrap demo test lint check bench voice install uninstall clean fresh-check

bootstrap:
	@scripts/bootstrap.sh

## Run the kiosk through one whole transaction on the emulated hardware (real pcscd,
## ccTalk pty, private cupsd, center over mutual TLS) and write what it showed and
## printed to $(OUT). Root, like the tests: the private pcscd and cupsd need it.
demo: bootstrap
	$(VENV)/bin/hw-emu run scenarios/happy_path.toml --out $(OUT) --clean

## Lint, type-check, import contracts, then the test suite
test: bootstrap lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check kiosk drivers hw-emulator tests bench scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	shellcheck systemd/install.sh scripts/bootstrap.sh scripts/fresh-machine-check.sh

## Benchmarks (never part of the tests' pass/fail); writes out/bench.json
bench: bootstrap
	$(PY) -m bench --out out/bench.json

## `make demo` and `make test` on a clone of HEAD inside a really fresh Debian bookworm
## root (debootstrap, cached in /var/cache/konbini-fresh); root, slow, not part of CI.
## Logs in out/fresh-check/. FRESH_ARGS="--only demo|test --keep --rebuild"; see --help
fresh-check:
	scripts/fresh-machine-check.sh $(FRESH_ARGS)

## Re-render the voice prompts in assets/voice (needs the optional "voice" extra)
voice: bootstrap
	$(VENV)/bin/pip install -q -e ".[voice]"
	$(PY) scripts/render_voice.py

## Install the kiosk on this machine (Raspberry Pi OS / Debian bookworm, as root); see docs/deploy.md
install:
	systemd/install.sh $(INSTALL_ARGS)

uninstall:
	systemd/install.sh --uninstall $(INSTALL_ARGS)

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache build *.egg-info
