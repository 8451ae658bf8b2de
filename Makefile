# Two entry points, both working on a fresh machine:
#   make demo   set up .venv and run pfedit and pflint on the bundled example (corpus/demo),
#               then preview pflint --fix and the sasl-tls recipe on it
#   make test   set up .venv, run ruff and mypy --strict, then the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test quick e2e transcripts recipe-docs check test-lowest bench fuzz clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/pfedit -c corpus/demo show
	@echo
	@# pflint exits 1 when it finds something, which is the point of the demo
	$(BIN)/pflint corpus/demo; test $$? -le 1
	@echo
	@echo "# what pflint --fix would change (--diff: nothing is written)"
	$(BIN)/pflint --fix --diff corpus/demo
	@echo
	@echo "# what the sasl-tls recipe would change (--diff: nothing is written)"
	$(BIN)/pfedit -c corpus/demo apply sasl-tls --postfix-version 3.7 --diff

# The static checks, then the whole suite, slow tests included (what CI runs).
test: check
	$(BIN)/python -m pytest

# The suite without the tests marked slow, for a quick round while working.
quick: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow"

# Only the end-to-end tests: real Postfix instances in a private network namespace (as root).
e2e: $(BIN)/.installed
	$(BIN)/python -m pytest -m e2e -v

# The recipes' end-to-end tests again, keeping their SMTP transcripts in docs/transcripts/,
# then docs/editing.md's examples regenerated from them (as root, like make e2e).
transcripts: $(BIN)/.installed
	rm -rf docs/transcripts
	PFCONF_TRANSCRIPTS_DIR=docs/transcripts $(BIN)/python -m pytest -q -m e2e tests/e2e/test_recipe_*.py
	$(BIN)/python tools/gen_recipe_docs.py

recipe-docs: $(BIN)/.installed
	$(BIN)/python tools/gen_recipe_docs.py

# Every dependency at the lowest version pyproject.toml allows, on the lowest supported
# Python, in its own .venv-lowest; the suite without the tests marked slow.
test-lowest:
	tools/test-lowest.sh -m "not slow"

check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy --strict

# Every comparison with postconf, in one run (benchmarks/README.md says what each shows).
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/commands.py
	$(BIN)/python benchmarks/parse_throughput.py
	$(BIN)/python benchmarks/edit_cost.py
	$(BIN)/python benchmarks/scaling.py
	$(BIN)/python benchmarks/lsp_latency.py

# Every fuzz target of tests/fuzz_targets.py at scale, with a random seed (tools/fuzz.py --help).
fuzz: $(BIN)/.installed
	$(BIN)/python tools/fuzz.py

clean:
	rm -rf $(VENV) .venv-lowest build dist .pytest_cache .hypothesis
