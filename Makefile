# Two commands: `make demo` (install + run the main job on the bundled simulator) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint reliability bench clean

$(BIN)/zdlogs: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/zdlogs
	$(BIN)/zdlogs demo

test: $(BIN)/zdlogs
	./scripts/system-deps.sh
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m pytest -n 4 --dist loadfile  # 4 workers on 2 cores: most tests wait on processes and HTTP

reliability: $(BIN)/zdlogs  # the full suites behind docs/RELIABILITY.md (about 90 minutes)
	$(BIN)/python -m reliability.crash --kills 200
	$(BIN)/python -m reliability.crash --kills 200 --storage gcs
	$(BIN)/python -m reliability.crash --kills 100 --resources all
	$(BIN)/python -m reliability.crash --kills 50 --resources all --storage s3
	$(BIN)/python -m reliability.crash --kills 50 --resources all --storage secops
	$(BIN)/python -m reliability.crash --kills 50 --resources all --storage secops --secops-answer-delay 0.5
	$(BIN)/python -m reliability.concurrency --rounds 50
	$(BIN)/python -m reliability.concurrency --rounds 50 --storage gcs
	$(BIN)/python -m reliability.concurrency --rounds 20 --resources all --storage s3
	$(BIN)/python -m reliability.concurrency --rounds 20 --resources all --storage secops
	$(BIN)/python -m reliability.faults --hours 24
	$(BIN)/python -m reliability.faults --hours 24 --storage gcs
	$(BIN)/python -m reliability.faults --hours 24 --resources all
	$(BIN)/python -m reliability.faults --hours 24 --resources all --storage s3
	$(BIN)/python -m reliability.faults --hours 24 --resources all --storage secops
	$(BIN)/python -m reliability.fleet crash --kills 100 --tenants 8 --parallel 4
	$(BIN)/python -m reliability.fleet concurrency --rounds 20 --tenants 8 --parallel 4
	$(BIN)/python -m reliability.fleet faults --tenants 10 --faulty 5 --parallel 4

bench: $(BIN)/zdlogs  # the tables of docs/PERFORMANCE.md: zdlogs against the original function, then every stream and sink, then a fleet's round (~21 minutes)
	$(BIN)/python -m benchmarks.vs_original
	$(BIN)/python -m benchmarks.streams_and_sinks
	$(BIN)/python -m benchmarks.fleet_round
	$(BIN)/python -m benchmarks.bare_client  # issue 17: whole `zdlogs run` against a bare client, CPU per record

lint: $(BIN)/zdlogs
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) zendesk-demo .pytest_cache
