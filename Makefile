# Front door. `make run` runs the main job (the tour playbook), `make test` runs every test; both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test browser java lab notebooks bench bench-peers lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==$$(grep -E '^pip==' requirements.lock | cut -d= -f3)"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

run: $(STAMP) browser  ## main job: the tour playbook on the default world -> reports/tour/<run-id>/
	$(BIN)/playbook run tour

# pytest runs numpy without AVX-512 and OpenBLAS on its Haswell kernels, as every notebook kernel does
# (helpers.run.kernel.SAME_MATH_EVERYWHERE): other paths differ in the last bit, so the tests give
# the same figures on any x86 machine
test: $(STAMP) browser java  ## lint, format and type checks, then unit tests + strict nbval on every notebook + the report in Chromium + Spark
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	NPY_DISABLE_CPU_FEATURES="AVX512_SPR AVX512_ICL X86_V4" OPENBLAS_CORETYPE="Haswell" $(BIN)/python -m pytest --nbval --nbval-current-env -p no:cacheprovider

browser:  ## headless Chromium (Debian's package) for report.pdf and the report test
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; }
	@chromium --version

java:  ## a Java 17 runtime for Spark (engine=pyspark), from Debian's packages if java is missing
	@command -v java >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -q openjdk-17-jre-headless >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q openjdk-17-jre-headless >/dev/null; }; }
	@java -version 2>&1 | head -1

LAB_PORT ?= 8888
LAB_IP ?= 127.0.0.1

lab: $(STAMP)  ## JupyterLab on the notebooks, no browser opened (LAB_PORT=8888, LAB_IP=0.0.0.0 for a shared server; root too)
	$(BIN)/jupyter lab notebooks/ --no-browser --port=$(LAB_PORT) --ip=$(LAB_IP) $(if $(filter 0,$(shell id -u)),--allow-root,)

notebooks: $(STAMP)  ## re-execute notebooks/ in place with default parameters (commit the outputs)
	$(BIN)/playbook refresh

bench: $(STAMP) browser java  ## every benchmark in one table -> benchmarks/results.json (about an hour; QUICK=1: to 100k)
	$(BIN)/python benchmarks/all.py $(if $(QUICK),--quick,)

PEERS := .peers
PEER_ENVS := dataframes lifetimes
SIZES ?= 10000 100000

$(PEERS)/%/.installed: benchmarks/peers/%.txt
	$(PYTHON) -m venv $(PEERS)/$*
	$(PEERS)/$*/bin/python -m pip install --quiet -r $<
	touch $@

bench-peers: $(STAMP) $(foreach e,$(PEER_ENVS),$(PEERS)/$(e)/.installed)  ## each stage beside polars, pandas and lifetimes (own venvs in .peers/) -> benchmarks/results_peers.json (SIZES="10000 100000")
	$(BIN)/python benchmarks/peers/compare.py $(SIZES)

lock: $(STAMP)  ## re-pin every dependency from the current .venv (keeps the lock's comment lines)
	{ grep '^#' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^relation-playbooks'; \
	  echo "pip==$$($(BIN)/python -m pip --version | cut -d' ' -f2)"; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) reports
