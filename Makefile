# `make check` is the one test command: format, lint, types, and every test (browser tests included).
.PHONY: check lint test demo screenshots

check: lint test

lint:
	ruff format --check .
	ruff check .
	mypy

test:
	pytest

demo:
	command-center demo

# README screenshots from a running demo server (command-center demo in another shell)
screenshots:
	python -m tests.browser.screens --base http://127.0.0.1:8050 --out docs/screenshots
