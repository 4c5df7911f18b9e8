# circuitlib: two commands on a fresh Debian/Ubuntu machine with Python 3.11.
#   make book   set up .venv, execute every notebook in order (papermill), build the HTML book
#   make test   set up .venv, run the unit tests and pytest --nbval on the notebooks
#   make lab    JupyterLab in the same environment and kernel
#   make serve  serve _build/html on localhost

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := python3
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
BOOK_NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
PORT ?= 8000
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup ngspice chromium book notebooks html bookcheck test unit nbval lab serve clean

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

notebooks: setup
	@for nb in $(NOTEBOOKS) $(BOOK_NOTEBOOKS); do \
	  echo "== papermill $$nb"; \
	  TQDM_DISABLE=1 $(BIN)/papermill --kernel $(KERNEL) --cwd $$(dirname $$nb) --log-level WARNING $$nb $$nb || exit 1; \
	done

html: setup
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going --quiet

bookcheck: setup
	$(BIN)/python -m circuitlib.report.bookcheck _build/html --screenshots _build/screenshots

book: notebooks html bookcheck
	@echo "book: _build/html/index.html"

unit: setup
	TQDM_DISABLE=1 $(BIN)/pytest -q tests

nbval: setup
	TQDM_DISABLE=1 $(BIN)/pytest -q --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 1800 notebooks/ book/

test: unit nbval

lab: setup
	$(BIN)/jupyter lab --notebook-dir=.

serve:
	@echo "serving _build/html on http://127.0.0.1:$(PORT)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

clean:
	rm -rf _build
