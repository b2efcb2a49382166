# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create or refresh the virtual environment .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := data/demo
PUPILS ?= 62536

.PHONY: venv spark test test-fast demo lint browser clean bench

# Every package comes from requirements.lock, pinned and hash-checked (its header says how to regenerate
# it); the project itself then installs editable with no further download (setuptools is in the lock).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# The optional Spark backend (`link --backend spark`): pyspark and py4j from requirements-spark.lock,
# pinned and hash-checked like the main lock and held to its versions. Java 17 is the system's
# (.ci/run installs Debian's openjdk-17-jre-headless when `java` is absent).
SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-spark.lock
	touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)

# The web page is tested in Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

# ruff, then dead code: vulture scans the package with the tests and benches (what only they use is
# used); framework callbacks it cannot see are listed in vulture_whitelist.py. The import-layer
# contract and the other structure checks run with the tests (tests/test_architecture.py).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/vulture exclusion_risk linkage features models serving synth tests bench vulture_whitelist.py \
	  --min-confidence 60

# `pytest`, not `python -m pytest`: the repo root stays off sys.path, so the stage folders can only be
# imported as the installed exclusion_risk.* sub-packages. Work stealing keeps both cores busy to the
# end (a few tests take 10-30 s each).
PYTEST := $(BIN)/pytest -n 2 --dist worksteal -q

test: venv browser lint
	$(PYTEST)

# Everything but the end-to-end tests (marked slow): no full-size authority, served champion,
# notebook or browser: about 50 s on 2 cores.
test-fast: venv lint
	$(PYTEST) -m "not slow"

demo: venv
	$(BIN)/exclusion-risk synth --out $(DEMO)/extracts --pupils $(PUPILS) --seed 7
	$(BIN)/exclusion-risk check --data $(DEMO)/extracts --out $(DEMO)/check
	$(BIN)/exclusion-risk link --data $(DEMO)/extracts --out $(DEMO)/linkage --no-progress
	$(BIN)/exclusion-risk train --data $(DEMO)/extracts --links $(DEMO)/linkage --quiet
	$(BIN)/exclusion-risk promote --best --metric precision_at_5pct
	$(BIN)/exclusion-risk review champion --data $(DEMO)/extracts --links $(DEMO)/linkage --out $(DEMO)/reports/fairness.html
	$(BIN)/exclusion-risk score --data $(DEMO)/extracts --links $(DEMO)/linkage --year 2018/19 --out $(DEMO)/scores/scores.csv
	$(BIN)/exclusion-risk compare --runs 1
	@echo
	@echo "Synthetic authority:  $(DEMO)/extracts  (ground truth for tests and benches in $(DEMO)/extracts/truth)"
	@echo "Extract check:        $(DEMO)/check/rejects.csv"
	@echo "Linkage:              $(DEMO)/linkage/report.html  (links.csv, review.csv, unlinked.csv, settings.json)"
	@echo "Fairness review:      $(DEMO)/reports/fairness.html"
	@echo "Scores 2018/19:       $(DEMO)/scores/scores.csv, scores.xlsx (notice sheet, a sheet per school) and scores.html"
	@echo "                      each scoring recorded in $(DEMO)/scores/score_runs (score --compare-with last: what changed)"
	@echo "MLflow runs:          $(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db  (then http://127.0.0.1:5000)"
	@echo "Service:              $(BIN)/exclusion-risk keys add --role scorer   (prints a key once)"
	@echo "                      $(BIN)/exclusion-risk serve   (then http://127.0.0.1:8000/; docs: EXCLUSION_RISK_DOCS=true)"
	@echo "                      run from here, it scores census uploads with $(DEMO)/extracts + $(DEMO)/linkage"
	@echo "                      (another authority: EXCLUSION_RISK_DATA_DIR=its extracts folder)"
	@echo "Scores support a professional's judgement; they are not decisions."

bench: venv
	$(BIN)/python bench/io.py
	$(BIN)/python bench/synth.py
	$(BIN)/python bench/linkage.py
	$(BIN)/python bench/models.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/service.py

clean:
	rm -rf $(VENV) data mlruns/*.db mlruns/artifacts
