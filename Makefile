# Set-up and everyday commands; each is idempotent and works from a clean clone.
#   make run    install everything, then train and evaluate the headline task
#   make test   install everything, then run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
TASK ?= go_small

.PHONY: install system-deps run test lint bench

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first: a plain 'torch' requirement would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0 || $(PY) -m pip install -q "torch>=2.3"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed system-deps

# GNU Go is the outside opponent of the Go tasks and the reference of the Go rules check.
system-deps:
	@command -v gnugo >/dev/null || test -x /usr/games/gnugo || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gnugo; \
	    else echo "GNU Go missing: sudo apt-get install gnugo (Go evaluation skips it until then)"; fi; }

run: install
	OMP_NUM_THREADS=1 $(PY) -m tasks.run $(TASK)

test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) benchmarks/runner_overhead.py
