# `make check` is the one test command: format, lint, types, and every test (browser tests included).
.PHONY: check lint test demo screenshots

check: lint test

lint:
	ruff format --check .
	ruff check .
	mypy

# two workers: the browser tests wait on a server and on Chromium, so a second worker fills the gaps
# even on 2 cores; worksteal evens out the slow browser files. PYTEST_WORKERS=0 runs in one process.
# --durations lists the slowest tests, to keep the suite inside its 15-minute budget.
PYTEST_WORKERS ?= 2

test:
	pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15

demo:
	command-center demo

# README screenshots from a running demo server (command-center demo in another shell)
screenshots:
	python -m tests.browser.screens --base http://127.0.0.1:8050 --out docs/screenshots
