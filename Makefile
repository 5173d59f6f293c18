# The two commands of the README's quick start: `make demo` and `make test`.
# Everything they need is installed here, into .venv and from the system's packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint test-sqlite test-postgresql test-live system-deps bench prestashop-module wordpress-plugin clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	mkdir -p demo/var
	$(BIN)/bridge --config demo/config.yaml demo

test: $(STAMP) system-deps
	$(BIN)/ruff check bridge tests bench scripts
	$(MAKE) test-sqlite
	$(MAKE) test-postgresql
	$(MAKE) test-live

lint: $(STAMP)
	$(BIN)/ruff check bridge tests bench scripts

test-sqlite: $(STAMP)
	BRIDGE_TEST_DB=sqlite $(BIN)/pytest --ignore=tests/live

test-postgresql: $(STAMP)
	BRIDGE_TEST_DB=postgresql $(BIN)/pytest --ignore=tests/live

# Real WooCommerce and PrestaShop shops (../shared/platforms: they install their own Debian packages), once, on SQLite.
test-live: $(STAMP)
	BRIDGE_TEST_DB=sqlite $(BIN)/pytest tests/live

bench: $(STAMP) system-deps
	@set -e; for b in bench/*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(BIN)/python $$b; done

# The optional PrestaShop module, as the zip that Modules > Module Manager > Upload a module takes.
prestashop-module:
	mkdir -p build
	rm -f build/bridgehints.zip
	$(PYTHON) -m zipfile -c build/bridgehints.zip prestashop-module/bridgehints
	@echo "build/bridgehints.zip"

# The optional WordPress plugin, as the zip that Plugins > Add New > Upload Plugin takes.
wordpress-plugin:
	mkdir -p build
	rm -f build/bridge-for-woocommerce.zip
	$(PYTHON) -m zipfile -c build/bridge-for-woocommerce.zip wordpress-plugin/bridge-for-woocommerce
	@echo "build/bridge-for-woocommerce.zip"

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
