# Front door. `make run` runs the main job, `make test` runs every test; both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test notebooks bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==$$(grep -E '^pip==' requirements.lock | cut -d= -f3)"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## main job: generate the default world and execute every notebook into reports/latest/
	$(BIN)/python -m helpers.runner run

test: $(STAMP)  ## unit tests + strict nbval on every notebook
	$(BIN)/python -m pytest --nbval --nbval-current-env -p no:cacheprovider

notebooks: $(STAMP)  ## re-execute notebooks/ in place with default parameters (commit the outputs)
	$(BIN)/python -m helpers.runner refresh

bench: $(STAMP)  ## speed and memory figures (world generation, loading, CLV, uplift, contact plan)
	$(BIN)/python benchmarks/generate_world.py
	$(BIN)/python benchmarks/load_tables.py
	$(BIN)/python benchmarks/clv.py
	$(BIN)/python benchmarks/uplift.py
	$(BIN)/python benchmarks/channels.py

lock: $(STAMP)  ## re-pin every dependency from the current .venv (keeps the lock's comment lines)
	{ grep '^#' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^relation-playbooks'; \
	  echo "pip==$$($(BIN)/python -m pip --version | cut -d' ' -f2)"; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) reports
