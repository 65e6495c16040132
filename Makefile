# Two commands do everything on a fresh machine: `make book` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kbook-installed
BUILD  := _build/html
# Never export MPLBACKEND here: kernels would inherit it and render no inline figures.

.PHONY: setup book build test unit nbval browser run outputs lab clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt -c requirements-lock.txt
	$(BIN)/pip install -q --no-build-isolation -e .
	touch $@

## make book: execute every chapter and build the HTML, warnings as errors.
book: setup build

build:
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is at $(CURDIR)/$(BUILD)/index.html"

## make test: unit, property and conformance tests, nbval (strict) over the chapters, the build,
## the built book in Chromium.
test: setup unit nbval build browser

unit:
	$(BIN)/pytest -q tests --ignore=tests/browser

nbval:
	$(BIN)/pytest -q --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg book

## make browser: the built book (make build first) in headless Chromium, offline; full-page
## screenshots in _build/screenshots/. Needs Debian's chromium (apt-get install chromium).
browser:
	$(BIN)/pytest -q tests/browser

## make run CHAPTER=manifests ARGS='-p replicas_override 10': one chapter with papermill into out/.
CHAPTER ?= manifests
run: setup
	mkdir -p out
	$(BIN)/papermill book/$(CHAPTER).ipynb out/$(CHAPTER).ipynb --cwd book $(ARGS)
	@echo "Executed chapter: $(CURDIR)/out/$(CHAPTER).ipynb"

## make outputs: re-execute the chapters in place (commit the result; nbval checks it).
outputs: setup
	$(BIN)/python tools/execute_inplace.py book/*.ipynb

## make lab: open the chapters in JupyterLab (installed into the venv on first use).
lab: setup
	test -x $(BIN)/jupyter-lab || $(BIN)/pip install -q jupyterlab
	$(BIN)/jupyter-lab book/

clean:
	rm -rf _build out
