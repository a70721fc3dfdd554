# Two commands do everything on a fresh machine (Python 3.11 + Java 17):
#   make report   bring data -> models -> verdicts up to date (dvc repro), then render reports/
#   make test     verify every claim this machine can run (pytest)
# Both create the virtual environment and install the pinned dependencies first.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3.11
VENV ?= .venv
PYTEST_ARGS ?=
# `make test` runs on JOBS xdist workers, one lesson per worker at a time and every timing claim last, alone on
# one worker once the others have exited (impl/harness/schedule.py); JOBS=0 runs everything in this process.
JOBS ?= 2
PARALLEL = $(if $(filter-out 0,$(JOBS)),-n $(JOBS) --lesson-dist)
LOCK_HASH := $(shell cat requirements.lock requirements-nodeps.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(LOCK_HASH)
PY := $(VENV)/bin/python

export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export SPARK_LOCAL_IP := 127.0.0.1
export CLAIMS_DATA_MIRROR ?=

.PHONY: venv test test-shuffled perf-repeat test-gpu report readme clean-reports

venv: $(STAMP)

# Clones may share one venv (CI keys it by the lock hash): installs into it are serialised by a
# lock file, and a venv counts as installed only once the stamp is written after a full install.
$(STAMP): requirements.lock requirements-nodeps.txt
	@mkdir -p "$(dir $(abspath $(VENV)))"
	@exec 9>"$(abspath $(VENV)).install-lock"; flock 9; \
	if [ ! -f "$(STAMP)" ]; then \
	  set -e; \
	  test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install --disable-pip-version-check -q -r requirements.lock; \
	  $(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt; \
	  rm -f $(VENV)/.installed-*; \
	  touch $(STAMP); \
	fi

# Every run leaves its evidence: the full log and a JUnit XML under reports/logs/. Lessons the run
# verified whole are then recorded as verified in dvc.lock (impl.pipeline.verified), so `make report`
# reuses their verdicts; pytest's exit status is kept.
LOGS := reports/logs
RECORD_FRESH = $(PY) -m impl.pipeline.verified --commit
RUN_PYTEST = mkdir -p $(LOGS) && { $(PY) -m pytest --junitxml=$(LOGS)/junit.xml $(1) 2>&1 | tee $(LOGS)/pytest.log; \
	status=$$?; $(RECORD_FRESH) || status=$$((status ? status : 1)); exit $$status; }

# The real page is checked in Chromium after the run: inside it, a clean clone has no verdicts on disk yet
# (they are written when the session ends). It writes no results and no timeline (--no-claim-results), so
# `make timeline` still reads the run's (a green `make test` left the check's one row there).
BROWSER_CHECK = $(PY) -m pytest -q -p no:randomly --no-claim-results tests/harness/test_report_browser.py -k this_clones_report

test: $(STAMP)
	$(call RUN_PYTEST,$(PARALLEL) $(PYTEST_ARGS))
	$(BROWSER_CHECK)

# The same claims in a shuffled order (pytest-randomly; SEED=<n> replays one): verdicts must not depend on order.
SEED ?=
test-shuffled: $(STAMP)
	$(call RUN_PYTEST,-p randomly $(if $(SEED),--randomly-seed=$(SEED)) $(PYTEST_ARGS))

# Every timing claim RUNS times, serially, into throw-away result folders: one row per claim with each
# run's verdict and tightest ratio (the protocol asks: none refuted, each judged in >= 4 of 5 runs).
RUNS ?= 5
perf-repeat: $(STAMP)
	mkdir -p $(LOGS) && $(PY) -m impl.harness.repeat --runs $(RUNS) --out $(LOGS)/perf-repeat.md -- -m "perf and not gpu" $(PYTEST_ARGS)

# Lesson 4's CNN study over WORKERS processes sharing one Optuna study in PostgreSQL (a throwaway local
# server, or STORAGE=<SQLAlchemy URL> where workers on other machines join with
# `python -m impl.l4_tuning.tune worker --storage <URL> --trials N --seed S`, N the study's budget, shared: each
# worker takes the next trial while the study holds fewer than N). Results: data/tuning/.
WORKERS ?= 2
STORAGE ?=
TRIALS ?=
TIMEOUT_MIN ?=
tune: $(STAMP)
	$(PY) -m impl.l4_tuning.tune --workers $(WORKERS) $(if $(STORAGE),--storage $(STORAGE)) $(if $(TRIALS),--trials $(TRIALS)) $(if $(TIMEOUT_MIN),--timeout-min $(TIMEOUT_MIN))
.PHONY: tune

# Mutation testing of one lesson (cosmic-ray): N sampled mutants of its core modules (impl/tools/mutants.yaml),
# seeded by SEED (default 0), each judged by the lesson's fast specs in a scratch copy of the tree, serially and
# niced. Writes reports/mutants/<lesson>.json and .md: the tally, the kill rate over mutants not argued
# equivalent in specs/<lesson>/equivalent_mutants.yaml, and each survivor's diff.
LESSON ?=
N ?= 30
mutants: $(STAMP)
	@test -n "$(LESSON)" || { echo "usage: make mutants LESSON=<lesson> [N=30] [SEED=0]"; exit 2; }
	nice -n 19 $(PY) -m impl.tools.mutants $(LESSON) --n $(N) --seed $(or $(SEED),0)
.PHONY: mutants

test-gpu: $(STAMP)
	$(call RUN_PYTEST,-m gpu $(PYTEST_ARGS))

# Another machine's verdicts (its reports/ folder, its checkout, or a tarball of reports/) merged into this
# checkout's: `make import-results FROM=<path>`, or `make report IMPORT=<path>` to import and render at once.
# Re-importing is a no-op; each claim shows every host's latest verdict side by side.
FROM ?=
IMPORT ?=
import-results: $(STAMP)
	@test -n "$(FROM)" || { echo "usage: make import-results FROM=<reports folder, checkout or tarball>"; exit 2; }
	$(PY) -m impl.harness.report.merge "$(FROM)"
.PHONY: import-results

# Verdicts a `make test` (or plain pytest) left fresh are reused; `dvc repro` re-runs only what changed:
# a lesson's data and models, its verify stage when its code, specs or models changed, and the report.
# The page is rendered once more when a pytest run left verdicts newer than it.
report: $(STAMP)
	$(if $(IMPORT),$(PY) -m impl.harness.report.merge "$(IMPORT)")
	$(RECORD_FRESH)
	$(PY) -m dvc repro
	$(PY) -m impl.harness.report --if-stale
	@echo "reports: $(abspath reports)/index.html"

readme: $(STAMP)
	$(PY) -m impl.harness.report --readme

# The claims and their last verdicts in a terminal, from what the runs left under reports/ (runs nothing):
#   make claims ARGS="list --verdict refuted"   make claims ARGS="show L1.svd.eckart_young"   make claims ARGS="explain <id>"
ARGS ?= list
claims: $(STAMP)
	@$(PY) -m impl.harness.cli $(ARGS)
.PHONY: claims

# Where the last run's time went (reports/logs/timeline.jsonl, written by every run): per worker its busy and idle
# seconds, the perf phase, and the items that waited longest (wall minus CPU) and ran longest.
timeline: $(STAMP)
	@$(PY) -m impl.harness.timeline
.PHONY: timeline

clean-reports:
	rm -rf reports

# Lesson 8's chosen model as an HTTP service (FastAPI on uvicorn, ONNX Runtime): built by DVC first when
# absent or out of date, then served on 127.0.0.1:$(PORT) until Ctrl-C.
PORT ?= 8000
serve: $(STAMP)
	$(PY) -m dvc repro impl/l8_production/dvc.yaml:quantize
	$(PY) -m impl.l8_production.server --port $(PORT)
.PHONY: serve

# The served model soaked: MINUTES of good and bad requests mixed (4 keep-alive clients, 30% bad), then the
# count of 5xx answers, the p99 of good requests against the SLO in claims.yaml and the server's RSS growth
# (reports/logs/soak.json); exits non-zero on a 5xx, a broken contract, a dropped good request or RSS growth > 32 MiB.
MINUTES ?= 10
soak: $(STAMP)
	$(PY) -m dvc repro impl/l8_production/dvc.yaml:quantize
	mkdir -p $(LOGS) && $(PY) -m impl.l8_production.soak --minutes $(MINUTES) --out $(LOGS)/soak.json
.PHONY: soak

# The multi-process specs (torchrun, Spark, PostgreSQL, Optuna workers, the HTTP server: every item whose code names a
# launcher module, impl/tools/busy_host.py) run serially beside HOGS CPU-bound processes, into a throw-away results folder:
# each must finish or fail with a diagnosis within its budget, and nothing may be left behind. Table:
# reports/logs/busy-host.md; exit 1 on a failure, an error or a left-behind process.
HOGS ?= 2
test-busy-host: $(STAMP)
	mkdir -p $(LOGS) && $(PY) -m impl.tools.busy_host --hogs $(HOGS) --out $(LOGS)/busy-host.md -- $(PYTEST_ARGS)
.PHONY: test-busy-host

# The suite once more with every instruction-set cap the stack offers (torch, oneDNN, NumPy, XLA, and the
# claims' own CPU-flag reading) set to AVX2, compared verdict by verdict with the last uncapped run
# (reports/results): the table goes to reports/logs/capped-isa.md; exit 1 when a verdict disagrees.
test-capped-isa: $(STAMP)
	mkdir -p $(LOGS) && $(PY) -m impl.harness.capped_isa --out $(LOGS)/capped-isa.md -- $(PYTEST_ARGS)
.PHONY: test-capped-isa
