# vgglib: reproduce Simonyan & Zisserman (ICLR 2015) table by table.
#   make reproduce-table4        compute a table by executing its notebook (train what the run store lacks,
#                                evaluate; the executed notebook is kept as the log), rebuild the book
#   make reproduce-all           every table, in the paper's order
#   make test                    lint, then the test suite (notebooks at the smoke profile)
#   make book / make serve       build the book offline / serve it on localhost:8000
#   make lab                     the notebooks in JupyterLab;  make lock  regenerates requirements.lock
# Tables: table2 (Tables 1-2), training (§3.1), table3 ... table12. PROFILE=smoke|quick|full selects
# the scale (quick is the default); DATA=path points at a data set, DATASET=folder reads it as an
# image-folder tree (train/<class>/, val/ or test/<class>/), SET="val_size=0.1 batch=64" overrides
# profile fields; TRANSFER=path (full only) at the Appendix B targets (VOCdevkit/, 101_ObjectCategories/, ...).
# RESULTS=dir keeps the records there instead of results/$(PROFILE)/; BOOK=dir builds the book from those sources.
PROFILE ?= quick
DATA ?=
TRANSFER ?=
DATASET ?=
SET ?=
RESULTS ?=
BOOK ?= book
PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REPRODUCE := $(PY) -m vgglib reproduce --profile $(PROFILE) $(if $(DATA),--data $(DATA)) \
	$(if $(DATASET),--dataset $(DATASET)) $(if $(SET),--set $(SET)) $(if $(TRANSFER),--transfer $(TRANSFER))
# The same computation through each table's notebook (vgglib/notebook.py), with the same options.
RUN_NOTEBOOK := $(PY) -m vgglib.notebook --profile $(PROFILE) $(if $(DATA),--data $(DATA)) \
	$(if $(DATASET),--dataset $(DATASET)) $(if $(SET),--set $(SET)) $(if $(TRANSFER),--transfer $(TRANSFER)) \
	$(if $(RESULTS),--results $(RESULTS))

.PHONY: venv lock data test lint export book serve lab bench bench-e2e bench-accuracy clean reproduce-all \
	reproduce-table1

# The environment: .venv with exactly the versions of requirements.lock, vgglib itself (editable,
# no dependency resolution of its own) and a Jupyter kernel living inside it.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name vgglib --display-name "vgglib (.venv)" >/dev/null
	touch $@

venv: $(STAMP)

# requirements.lock: every package and its exact version, resolved by pip-compile (pip-tools) from
# pyproject.toml for this Python and platform. pip-tools lives in a small venv of its own, apart
# from .venv. Pins that still satisfy pyproject.toml are kept; rm requirements.lock for the newest.
LOCK_VENV := .venv-lock
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install -q --upgrade pip pip-tools; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

# Fashion-MNIST, which the tests and the smoke and quick profiles read: used where it is, else
# installed from Debian (as root) or downloaded with checksums (vgglib/fetch.py). The full
# profile reads DATA=/path/to/ILSVRC2012 instead, so it fetches nothing.
data: $(STAMP)
	$(if $(filter full,$(PROFILE))$(DATASET),@echo "reading DATA=$(DATA) as it is: nothing to fetch",\
	$(PY) -m vgglib.fetch fashion-mnist $(if $(DATA),--root $(DATA)))

# The tests run at the smoke profile (so they need Fashion-MNIST whatever PROFILE says), and
# Chromium for the book's browser test: installed as root, else that test skips saying how.
test: override PROFILE := smoke
test: lint data
	$(PY) -m vgglib.fetch chromium
	$(PY) -m pytest

# ruff on the package and tests, and on each text notebook through jupytext.
lint: $(STAMP)
	$(VENV)/bin/ruff check vgglib tests
	$(VENV)/bin/jupytext --quiet --check "$(abspath $(VENV))/bin/ruff check --quiet {}" notebooks/*.md

# The CSV exports and claims.csv beside the committed records, from the report code.
export: $(STAMP)
	$(PY) -c 'from vgglib.reproduce import export; export("results/$(PROFILE)")'

# The book: every MyST notebook converted (jupytext), executed at $(PROFILE) on the records in
# results/$(PROFILE)/ with its parameters checked (papermill), then built offline (jupyter-book).
book: $(STAMP)
	$(PY) -m vgglib.book --profile $(PROFILE) $(if $(RESULTS),--results $(RESULTS)) --book $(BOOK)
	@echo "Book: $(BOOK)/_build/html/index.html (make serve to browse it)"

# reproduce-NAME executes the table's notebook with compute on (papermill): it computes the record
# (training what the run store lacks, evaluating) through the same code as `python -m vgglib reproduce`,
# writes results/$(PROFILE)/NAME.json with its CSVs and claims.csv, and keeps the executed notebook,
# with its progress and timings, as the run's log in results/$(PROFILE)/logs/NAME.ipynb (tables without
# a notebook of their own, Tables 1-2 and the diagnoses, are computed directly); then rebuilds the book,
# which only renders the records.
reproduce-%: data
	$(RUN_NOTEBOOK) $*
	$(MAKE) --no-print-directory book

reproduce-table1: reproduce-table2

reproduce-all: data
	$(RUN_NOTEBOOK) all
	$(MAKE) --no-print-directory book

serve: book
	@echo "Serving http://localhost:$(PORT)/ (Ctrl-C to stop)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(BOOK)/_build/html

# JupyterLab (from requirements.lock: nothing is installed at launch) on notebooks/, in the vgglib
# kernel. jupytext serves the MyST notebooks/*.md as notebooks; .jupyter/ makes a double click
# open them as such. --allow-root only where make runs as root (containers, CI machines).
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/.jupyter $(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --ServerApp.root_dir=notebooks --MultiKernelManager.default_kernel_name=vgglib

# Performance report (throughput, torchvision, CPU fast paths, evaluation cost, data pipeline, memory,
# the machine's limit): out/bench/bench.{json,md} and results/$(PROFILE)/bench.json.
bench: $(STAMP)
	$(PY) -m vgglib.bench all --profile $(PROFILE) --out out/bench

# The fast paths' long accuracy check: D/256 in fp32 eager beside the stored bf16 + channels-last run (~20 min
# at quick), also written to results/$(PROFILE)/accuracy.json for the Departures page.
bench-accuracy: $(STAMP)
	$(PY) -m vgglib.bench accuracy --profile $(PROFILE) --out out/bench

# End-to-end: Table 4 reproduced from an empty run store, timed stage by stage beside its compute
# floor with the matmul peaks measured in the same run (out/bench/e2e.json; make bench then reports
# table4_wall_over_floor from it). It rewrites results/$(PROFILE)/table4.json and rebuilds the book.
# Hours at quick: stopped (Ctrl-C), the same command continues where it was; E2E_RUNS=dir puts the
# store elsewhere, KEEP=1 keeps its nets for later tables.
E2E_RUNS ?= out/bench/e2e-runs
bench-e2e: data
	$(PY) -m vgglib.bench e2e --profile $(PROFILE) --table table4 --runs $(E2E_RUNS) \
	  --stage reproduce="$(REPRODUCE) table4" --stage book="$(PY) -m vgglib.book --profile $(PROFILE)" \
	  $(if $(KEEP),--keep-runs) --out out/bench/e2e.json

clean:
	rm -rf $(BOOK)/_build $(BOOK)/_nb
