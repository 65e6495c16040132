# Two commands do everything on a fresh machine: `make book` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kbook-installed
# Browser assets the book serves itself (MathJax), pinned in package.json/package-lock.json.
NODE_STAMP := node_modules/.kbook-installed
BUILD  := _build/html
# Never export MPLBACKEND here: kernels would inherit it and render no inline figures.

.PHONY: setup book build budget test unit nbval browser run list outputs lab clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt -c requirements-lock.txt
	$(BIN)/pip install -q --no-build-isolation -e .
	touch $@

# npm ci installs exactly the lock (MathJax 3.2.2, checked against its sha512) into
# node_modules/, which _config.yml hands to Sphinx as html_static_path.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## make book: execute every chapter and build the HTML, warnings as errors.
book: setup build

build:
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	$(BIN)/python tools/check_offline.py $(BUILD)
	@echo "The book is at $(CURDIR)/$(BUILD)/index.html"

## make budget: per-chapter execution times of the last build (_build/execution-times.md);
## fails when a chapter at its default parameters took over 60 s.
budget:
	$(BIN)/python tools/exec_report.py --build-dir _build --budget 60

## make test: unit, property and conformance tests, nbval (strict) over the chapters, the build,
## the chapters' time budget, the built book in Chromium.
test: setup unit nbval build budget browser

unit:
	$(BIN)/pytest -q tests --ignore=tests/browser

nbval:
	$(BIN)/pytest -q --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg book

## make browser: the built book (make build first) in headless Chromium, offline; full-page
## screenshots in _build/screenshots/. Needs Debian's chromium (apt-get install chromium).
browser:
	$(BIN)/pytest -q tests/browser

## make run CHAPTER=manifests ARGS='-p replicas_override 10': one chapter with papermill into
## out/CHAPTER.ipynb and out/CHAPTER.html (`kbook run`); make list: the chapters and their parameters.
CHAPTER ?= manifests
run: setup
	$(BIN)/kbook run $(CHAPTER) --out out $(ARGS)

list: setup
	$(BIN)/kbook list

## make outputs: re-execute the chapters in place (commit the result; nbval checks it).
outputs: setup
	$(BIN)/python tools/execute_inplace.py book/*.ipynb

## make lab: open the chapters in JupyterLab (installed into the venv on first use).
lab: setup
	test -x $(BIN)/jupyter-lab || $(BIN)/pip install -q jupyterlab
	$(BIN)/jupyter-lab book/

clean:
	rm -rf _build out
