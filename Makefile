# sitewatch: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-pg fuzz lint eval bench model model-cv model-s2 model-s2-cv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sitewatch demo

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/pytest -q

# the fuzz suite with many more examples (make test runs a few of each): names, dates,
# numbers and small rasters through the API and the CLI; counts of how each case ended
# in fuzz-report.json
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz SITEWATCH_FUZZ_REPORT=fuzz-report.json $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

# the whole suite again with each test's catalog in a new database on a PostgreSQL + PostGIS
# server: SITEWATCH_TEST_PG=postgresql+psycopg://USER@127.0.0.1:PORT/postgres (an admin URL;
# `.ci/pg start DIR` starts a throwaway server and prints one). `make test` never needs it.
test-pg: $(STAMP)
	@test -n "$(SITEWATCH_TEST_PG)" || { echo "test-pg: set SITEWATCH_TEST_PG to a PostgreSQL admin URL (see .ci/pg)" >&2; exit 2; }
	SITEWATCH_TEST_PG='$(SITEWATCH_TEST_PG)' $(BIN)/pytest -q

eval: $(STAMP)
	$(BIN)/python scripts/evaluate_detect.py --method cva
	$(BIN)/python scripts/evaluate_detect.py --method model
	$(BIN)/python scripts/compare_cold.py
	$(BIN)/python scripts/evaluate_oscd.py
	$(BIN)/python scripts/evaluate_text.py
	$(BIN)/python scripts/evaluate_footprints.py

bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_site.py

# retrain the shipped weights from the ImageNet start (CPU, 2 cores: about 30 minutes)
model: $(STAMP)
	$(BIN)/python scripts/train_model.py \
		--out src/sitewatch/learn/weights/changenet-v3.pt
	$(BIN)/sitewatch model export --out src/sitewatch/learn/weights/changenet-v3.onnx

# held-out accuracy of that recipe: two-fold cross-validation on LEVIR-CD (about an hour)
model-cv: $(STAMP)
	$(BIN)/python scripts/train_model.py --cv

# retrain the shipped multispectral (Sentinel-2) weights on the 14 OSCD cities and export
# them to ONNX (CPU, 2 threads: about 10 minutes); reads the figures of model-s2-cv
model-s2: $(STAMP)
	$(BIN)/python scripts/train_s2.py

# leave-cities-out cross-validation of that recipe (3 folds of whole cities) with the
# classical cva on the same cities (CPU, 2 threads: about 30 minutes)
model-s2-cv: $(STAMP)
	$(BIN)/python scripts/train_s2.py --cv

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
