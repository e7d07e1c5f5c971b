# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
KERN := elearn/static/vendor/kern

.PHONY: run test install assets translations lint messages clean browser fonts settings

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The KERN UX design system comes from npm and is copied into the served static folder.
$(KERN)/kern.min.css: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(KERN) && mkdir -p $(KERN)
	cp -R node_modules/@kern-ux/native/dist/. $(KERN)/
	touch $@

assets: $(KERN)/kern.min.css

translations: $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy --statistics -d elearn/translations

install: $(BIN)/.installed assets translations

# The settings first, under their own heading: refused by `db upgrade`, a wrong ELEARN_* value
# looked like a failed migration.
settings:
	@echo "Checking the settings (DATABASE_URL, SECRET_KEY, ELEARN_*) ..."
	@$(BIN)/python -c "import wsgi"

run: install settings
	$(FLASK) db upgrade
	$(FLASK) courses sync
	$(FLASK) demo seed --if-empty
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's Chromium (no browser download): install it when it is missing.
# ELEARN_CHROMIUM names another one (as tests/e2e reads it): then nothing is installed.
browser:
	@if [ -n "$$ELEARN_CHROMIUM" ]; then \
	  test -x "$$ELEARN_CHROMIUM" || { echo "ELEARN_CHROMIUM=$$ELEARN_CHROMIUM is not an executable file." >&2; exit 1; }; \
	elif [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check elearn tests bench migrations
	$(BIN)/bandit -q -r elearn -ll

# Certificates are printed in DejaVu Sans where it is installed (Debian's fonts-dejavu-core);
# a test checks that a name with any European letter comes out whole in it.
DEJAVU ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
fonts:
	@if [ ! -f "$(DEJAVU)" ]; then \
	  apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	fi

test: lint browser fonts
	$(BIN)/pytest

# Re-extract translatable strings after changing templates or code.
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k filled_ngettext:1,2 -o elearn/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i elearn/translations/messages.pot -d elearn/translations

# What `make install` made; never instance/, which holds the SQLite database and the secret key.
clean:
	rm -rf $(VENV) node_modules elearn/static/vendor elearn.egg-info
	rm -f elearn/translations/*/LC_MESSAGES/messages.mo
