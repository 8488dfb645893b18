# The README's commands. Each target bootstraps first (Debian packages, .venv).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
OUT ?= out/demo

.PHONY: bootstrap demo test lint check bench voice install uninstall clean fresh-check reliability deb deb-check

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

## Issue 23's reliability report, out/reliability.json: the crash matrix (every scenario
## killed by SIGKILL at every state and inner point, restarted, every yen accounted),
## 10^5 fuzz inputs per parser, and a soak with device faults. Root; about 50 minutes.
## RELIABILITY_ARGS="--only crash --scenarios happy_path"; see docs/scenarios.md
reliability: bootstrap
	$(PY) -m tests.reliability.main --out out/reliability.json $(RELIABILITY_ARGS)

## `make demo` and `make test` on a clone of HEAD inside a really fresh Debian bookworm
## root (debootstrap, cached in /var/cache/konbini-fresh); root, slow, not part of CI.
## Logs in out/fresh-check/. FRESH_ARGS="--only demo|test --keep --rebuild"; see --help
fresh-check:
	scripts/fresh-machine-check.sh $(FRESH_ARGS)

## The Debian package: out/deb/konbini-kiosk_<version>_<arch>.deb for this machine's
## architecture (debhelper + dh-virtualenv, the venv from debian/requirements.lock),
## then lintian. See docs/deploy.md "The Debian package" and scripts/build-deb.sh --help
deb: bootstrap
	scripts/build-deb.sh

## Builds the package and installs, removes and purges it in a fresh bookworm root
## (root, slow, not part of `make test`): tests/deploy/test_deb.py
deb-check: bootstrap
	KIOSK_DEB_CHECK=1 $(PY) -m pytest tests/deploy/test_deb.py $(PYTEST_ARGS)

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
