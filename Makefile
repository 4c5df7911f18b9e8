# circuitlib: two commands on a fresh Debian/Ubuntu machine with Python 3.11 (and 3.13 for the second unit run).
#   make book   set up .venv, execute the notebooks in order (papermill; those unchanged since their last run here are
#               kept, FORCE=1 runs them all), build the HTML book
#   make test   set up .venv, check the layers, the doctests, CITATION.cff, the unit tests on Python 3.11 and 3.13,
#               and pytest --nbval on the notebooks; it fails if they leave the git working tree changed
#   make lab    JupyterLab in the same environment and kernel
#   make serve  serve _build/html on localhost

PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Python 3.13 for the second unit-test run: on PATH, from pyenv, or Debian's python3.13 (apt, when root)
PYTHON313 ?= $(shell for p in $$(command -v python3.13) $$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.13; do \
                 "$$p" -c 'import sys' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
VENV313 := .venv313
VENVCFF := .venv-cff
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := python3
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
BOOK_NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
PORT ?= 8000
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup ngspice chromium book notebooks html bookcheck test unit unit313 citation nbval lab serve clean

setup: $(STAMP) ngspice chromium

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c "import sys; assert sys.version_info[:2] == (3, 11)" 2>/dev/null || { echo "Python 3.11 is needed: install python3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@echo "installing the pinned dependencies into $(VENV) (log: $(VENV)/pip.log)"
	@$(BIN)/pip install --no-warn-script-location -r requirements.lock >$(VENV)/pip.log 2>&1 || { tail -30 $(VENV)/pip.log; exit 1; }
	@$(BIN)/pip install --no-deps -e . >>$(VENV)/pip.log 2>&1 || { tail -30 $(VENV)/pip.log; exit 1; }
	$(BIN)/python -c "import torch, torch_geometric, PySpice, myst_nb, papermill, nbval"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (circuitlib)" >/dev/null
	touch $(STAMP)

ngspice:
	@if ls /usr/lib/*/libngspice.so* /usr/lib/libngspice.so* 2>/dev/null | grep -q . || [ -n "$$NGSPICE_LIBRARY_PATH" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing ngspice (libngspice0) with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libngspice0 ngspice >/dev/null; \
	else \
	  echo "ngspice is missing. Run:  sudo apt-get install -y libngspice0 ngspice   and then rerun make."; exit 1; \
	fi

chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver with apt (for the book's browser check)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "chromium is missing. Run:  sudo apt-get install -y chromium chromium-driver   and then rerun make."; exit 1; \
	fi

# notebooks whose code and inputs are unchanged since their last run here are not executed again (FORCE=1: all)
notebooks: setup
	$(BIN)/python -m circuitlib.report.execute $(if $(FORCE),--force) $(NOTEBOOKS) $(BOOK_NOTEBOOKS)

html: setup
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going --quiet

bookcheck: setup
	$(BIN)/python -m circuitlib.report.bookcheck _build/html --screenshots _build/screenshots

book: notebooks html bookcheck
	@echo "book: _build/html/index.html"

# under coverage, recorded with the SHA256 of the code it measured: notebook 06 reuses the report instead of a rerun
unit: setup
	$(BIN)/lint-imports --no-cache
	@mkdir -p _build
	( TQDM_DISABLE=1 $(BIN)/pytest -q -rf -n 2 --doctest-modules --cov=circuitlib --cov-report=json:_build/coverage.json \
	  circuitlib tests; echo $$? > _build/unit.status ) | tee _build/unit.log
	$(BIN)/python -m circuitlib.report.audit record-coverage _build/coverage.json _build/unit.log $$(cat _build/unit.status)
	@exit $$(cat _build/unit.status)

# the unit tests again on Python 3.13 (torch 2.13.0 from PyPI there; the other versions constrained by the lock)
$(VENV313)/.installed: requirements.lock pyproject.toml
	@py="$(PYTHON313)"; \
	if [ -z "$$py" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing python3.13 with apt"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.13 python3.13-venv >/dev/null 2>&1; py=/usr/bin/python3.13; fi; \
	"$$py" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null || { echo "Python 3.13 is needed for the second unit run: install python3.13 (or make PYTHON313=/path/to/python3.13)"; exit 1; }; \
	"$$py" -m venv $(VENV313)
	@echo "installing circuitlib[test,book] into $(VENV313) (log: $(VENV313)/pip.log)"
	@$(VENV313)/bin/pip install --no-warn-script-location -c requirements.lock -e ".[test,book]" >$(VENV313)/pip.log 2>&1 || { tail -30 $(VENV313)/pip.log; exit 1; }
	touch $@

unit313: $(VENV313)/.installed ngspice
	TQDM_DISABLE=1 $(VENV313)/bin/pytest -q -n 2 tests

# CITATION.cff against the CFF schema; cffconvert pins jsonschema<4, so it lives in its own small venv
citation:
	@[ -x $(VENVCFF)/bin/cffconvert ] || { $(PYTHON) -m venv $(VENVCFF) && $(VENVCFF)/bin/pip install -q cffconvert==2.0.0 >/dev/null 2>&1; }
	$(VENVCFF)/bin/cffconvert --validate -i CITATION.cff

# the notebooks write their result files into a temporary folder (CIRCUITLIB_RESULTS_DIR), not over the committed ones
nbval: setup
	@mkdir -p _build && rm -rf _build/nbval-results && mkdir _build/nbval-results
	CIRCUITLIB_RESULTS_DIR=$(CURDIR)/_build/nbval-results TQDM_DISABLE=1 $(BIN)/pytest -q --nbval \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 1800 notebooks/ book/

# the tests must leave the working tree as they found it (git status before and after)
test:
	@mkdir -p _build && git status --porcelain > _build/status-before.txt 2>/dev/null || true
	$(MAKE) unit unit313 citation nbval
	@git status --porcelain > _build/status-after.txt 2>/dev/null || true
	@diff -u _build/status-before.txt _build/status-after.txt || { echo "make test changed the working tree (above)"; exit 1; }

lab: setup
	$(BIN)/jupyter lab --notebook-dir=.

serve:
	@echo "serving _build/html on http://127.0.0.1:$(PORT)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

clean:
	rm -rf _build $(VENV313) $(VENVCFF)
