# Roster: `make run` serves the demo; `make test` runs the suite. Nothing else to install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PORT ?= 5001
# Roster's own address and the demo site's origin follow the ports (set them to override).
BASE_URL ?= http://$(HOST):$(PORT)
EMBED_ALLOWED_ORIGINS ?= http://localhost:$(DEMO_PORT)
RUN_ENV = BASE_URL=$(BASE_URL) EMBED_ALLOWED_ORIGINS=$(EMBED_ALLOWED_ORIGINS)

.PHONY: install run test lint bench clean translations

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate requirements/base.txt requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(RUN_ENV) $(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) demo seed
	@echo "Roster is on $(BASE_URL)/subscribe; mail is printed below and shown on $(BASE_URL)/dev/mail"
	@echo "The demo article page (another origin, with the embeds) is on http://localhost:$(DEMO_PORT)/"
	@# The worker (mail, imports, the schedule) and the demo site run beside Roster and
	@# stop with it (Ctrl-C stops all three).
	@ROSTER_URL=$(BASE_URL) $(BIN)/flask --app demo_site run --host 127.0.0.1 --port $(DEMO_PORT) & \
	demo=$$!; $(RUN_ENV) $(FLASK) worker & worker=$$!; trap 'kill $$demo $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/bandit --quiet --recursive . --exclude ./.venv,./tests,./bench --severity-level high
	$(BIN)/mypy

bench: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install -y wrk"; exit 1; }
	@test -x /usr/sbin/smtp-sink || { echo "bench needs Postfix's smtp-sink: apt-get install -y postfix"; exit 1; }
	$(BIN)/python -m bench.run

# Extract every reader-facing string, merge it into each language's catalogue and compile
# them (the compiled .mo files are committed, so a fresh clone runs without this step).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output --project Roster \
		-w 100 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -w 100
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
