# Two commands on a fresh machine: `make demo` (bill the bundled examples) and `make test`.
# Both create .venv and install the pinned dependencies the first time.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve test lint schemas bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/hitclaims demo --out out

serve: $(STAMP)
	rm -f demo.db demo.db-*
	$(BIN)/hitclaims serve --demo --database sqlite:///demo.db

test: $(STAMP)
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

schemas: $(STAMP)
	$(BIN)/hitclaims schema episode > schemas/episode.schema.json
	$(BIN)/hitclaims schema result > schemas/result.schema.json

bench: $(STAMP)
	$(BIN)/python bench/bench_bill.py
	$(BIN)/python bench/bench_x12.py
	$(BIN)/python bench/bench_api.py --database sqlite
	$(BIN)/python bench/bench_api.py --database postgresql

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
