# vgglib: reproduce Simonyan & Zisserman (ICLR 2015) table by table.
#   make reproduce-table2        Tables 1–2 (§2), then rebuild the book
#   make test                    the test suite (notebooks at the smoke profile)
#   make book / make serve       build the book offline / serve it on localhost:8000
# PROFILE=smoke|quick|full selects the scale (quick is the default); DATA=path points at a data set.
PROFILE ?= quick
DATA ?=
PORT ?= 8000
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NB_OUT := book/_nb
PAPERMILL := $(PY) -m papermill -k vgglib --progress-bar
SRC := $(wildcard vgglib/*.py vgglib/*.toml)
NB_PARAMS := -p profile $(PROFILE) $(if $(DATA),-p data_root $(DATA))

TABLES := table3_single_scale table4_multi_scale table5_dense_vs_multicrop table6_fusion table7_state_of_the_art
CHAPTERS := architecture training $(TABLES)

.PHONY: venv test book serve lab bench clean reproduce-table1 reproduce-table2 \
	reproduce-training reproduce-table3 reproduce-table4 reproduce-table5 reproduce-table6 reproduce-table7

# The environment: .venv with the pinned dependencies and a Jupyter kernel living inside it.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	$(PY) -m ipykernel install --sys-prefix --name vgglib --display-name "vgglib (.venv)" >/dev/null
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

# An executed notebook is stale when its source, vgglib or the environment changed.
$(NB_OUT)/%.ipynb: notebooks/%.ipynb $(SRC) $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) $< $@ $(NB_PARAMS)

book: $(CHAPTERS:%=$(NB_OUT)/%.ipynb)
	$(VENV)/bin/jupyter-book build book --warningiserror --quiet
	@echo "Book: book/_build/html/index.html (make serve to browse it)"

reproduce-table1 reproduce-table2: $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/architecture.ipynb $(NB_OUT)/architecture.ipynb $(NB_PARAMS)
	$(MAKE) --no-print-directory book

# reproduce-tableN trains what the table lacks (the run store keeps what exists), evaluates it,
# writes results/$(PROFILE)/tableN.json and rebuilds the book.
reproduce-training: TABLE_NB := training
reproduce-table3: TABLE_NB := table3_single_scale
reproduce-table4: TABLE_NB := table4_multi_scale
reproduce-table5: TABLE_NB := table5_dense_vs_multicrop
reproduce-table6: TABLE_NB := table6_fusion
reproduce-table7: TABLE_NB := table7_state_of_the_art
reproduce-training reproduce-table3 reproduce-table4 reproduce-table5 reproduce-table6 reproduce-table7: $(STAMP)
	@mkdir -p $(NB_OUT)
	@start=$$(date +%s); \
	$(PAPERMILL) notebooks/$(TABLE_NB).ipynb $(NB_OUT)/$(TABLE_NB).ipynb $(NB_PARAMS) -p reproduce True \
	  --log-output --stdout-file /dev/stdout && \
	echo "$@: done in $$(( ($$(date +%s) - start) / 60 )) min $$(( ($$(date +%s) - start) % 60 )) s"
	$(MAKE) --no-print-directory book

serve: book
	@echo "Serving http://localhost:$(PORT)/ (Ctrl-C to stop)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory book/_build/html

lab: $(STAMP)
	$(PY) -m pip install -q jupyterlab
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) bench/throughput.py --profile $(PROFILE) --out out/bench

clean:
	rm -rf book/_build $(NB_OUT)
