# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create or refresh the virtual environment .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := data/demo
PUPILS ?= 62536

.PHONY: venv test demo lint browser clean bench

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The web page is tested in Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

lint: venv
	$(BIN)/ruff check .

test: venv browser lint
	$(BIN)/python -m pytest -n 2 -q

demo: venv
	$(BIN)/exclusion-risk synth --out $(DEMO)/extracts --pupils $(PUPILS) --seed 7
	$(BIN)/exclusion-risk check --data $(DEMO)/extracts --out $(DEMO)/check
	@echo
	$(BIN)/exclusion-risk link --data $(DEMO)/extracts --out $(DEMO)/link --no-progress
	$(BIN)/exclusion-risk train --data $(DEMO)/extracts --links $(DEMO)/link
	$(BIN)/exclusion-risk promote --best --metric precision_at_5pct
	@echo
	@echo "Synthetic authority:   $(DEMO)/extracts (ground truth in $(DEMO)/extracts/truth)"
	@echo "Extract check:         $(DEMO)/check/rejects.csv"
	@echo "Linkage:               $(DEMO)/link/report.html"
	$(BIN)/exclusion-risk compare
	@echo "MLflow runs:           $(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db  (then open http://127.0.0.1:5000)"

bench: venv
	$(BIN)/python bench/io.py
	$(BIN)/python bench/models.py

clean:
	rm -rf $(VENV) data mlruns/*.db mlruns/artifacts
