# fiftyfifty — the two front-door commands are `make demo` and `make test`.
# Each bootstraps what it needs: system packages (apt-get, when root), a .venv, the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the project needs at run time and in tests.
SYSTEM_PACKAGES := libreoffice-writer-nogui poppler-utils qpdf fonts-dejavu-core fonts-liberation2 zbar-tools softhsm2 opensc faketime chromium
# A command that must exist for each package above, in the same order.
SYSTEM_COMMANDS := soffice pdftotext qpdf /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf zbarimg softhsm2-util pkcs11-tool faketime chromium
# Debian packages only the benchmark needs (its peer, unoserver, runs on Debian's python3-uno).
BENCH_PACKAGES := python3-uno
DEMO_WS := demo-out/workspace

.PHONY: demo test check bench lint system venv clean help docs i18n
.PHONY: demo test bench lint system venv clean help docs screenshots

help:
	@echo "make demo   run the whole job on the bundled examples into $(DEMO_WS)"
	@echo "make test   run the lint, type checks and the whole test suite"
	@echo "make check  the fast loop: lint, types, and the tests that need no LibreOffice"
	@echo "make bench  measure every performance target (BENCH_ONLY=validation,peer for some parts)"

system:
	@missing=""; set -- $(SYSTEM_PACKAGES); \
	for c in $(SYSTEM_COMMANDS); do \
	  if [ "$${c#/}" != "$$c" ]; then [ -e "$$c" ] || missing="$$missing $$1"; \
	  else command -v "$$c" >/dev/null 2>&1 || missing="$$missing $$1"; fi; shift; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Install them with:  sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check pipeline schemas tests bench setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: system venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not slow"
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow

check: venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not libreoffice and not slow and not browser"

demo: system venv
	@rm -rf demo-out && mkdir -p demo-out
	@echo "== 1. Validate the bundled examples (one CSV row is wrong on purpose)"
	$(BIN)/fiftyfifty validate conventions/examples/* --report demo-out/validation.csv || test $$? -eq 1
	@echo "== 2. Produce the conventions"
	$(BIN)/fiftyfifty run conventions/examples/* --workspace $(DEMO_WS) --report demo-out/run-report.csv || test $$? -eq 1
	@echo "== 3. A throw-away PKI (certificates in the signatories' names, its root trusted by the workspace, its timestamp authority on 127.0.0.1); every signatory of the skate-park convention signs at B-LTA, the mayor last; verify"
	$(BIN)/python bench/demo_sign.py $(DEMO_WS) FF-2026-SKATEPARK demo-out/pki
	@echo "== 4. Check the whole archive"
	$(BIN)/fiftyfifty archive verify --workspace $(DEMO_WS)
	@echo "== 5. The registry as a clerk reads it: French amounts, dates and history"
	@set -e; id=$$($(BIN)/fiftyfifty registry list --workspace $(DEMO_WS) --json | $(BIN)/python -c \
	  'import json,sys; print(next(c["id"] for c in json.load(sys.stdin)["conventions"] if c["reference"]=="FF-2026-SKATEPARK"))'); \
	$(BIN)/fiftyfifty registry show $$id --workspace $(DEMO_WS)
	@echo "== 6. A longer intake form (4 holders, 6 money lines), and the messages in English on request"
	$(BIN)/fiftyfifty intake-template --format xlsx --holders 4 --money-lines 6 -o demo-out/projets-4-porteurs.xlsx
	$(BIN)/fiftyfifty --lang en validate conventions/examples/skatepark.json
	@echo "== 7. One convention's whole life: draft, numbered, signed, works done, upkeep calendar"
	@set -e; \
	$(BIN)/python -c 'import json; d=json.load(open("conventions/examples/rural-paths.json")); d["reference"]="FF-2026-CHEMINS-B"; d["title"]="Chemins ruraux, seconde tranche"; json.dump(d, open("demo-out/chemins-b.json", "w"), ensure_ascii=False)'; \
	$(BIN)/fiftyfifty run demo-out/chemins-b.json --draft --workspace $(DEMO_WS) --report demo-out/draft-report.csv; \
	$(BIN)/fiftyfifty registry list --status draft --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty run demo-out/chemins-b.json --workspace $(DEMO_WS) --report demo-out/run-b-report.csv; \
	id=$$($(BIN)/python bench/demo_sign.py $(DEMO_WS) FF-2026-CHEMINS-B demo-out/pki-life | tail -n 1); \
	$(BIN)/fiftyfifty works start $$id --on 2027-03-01 --by "Service urbanisme" --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty works done $$id --on 2027-06-30 --by "Service urbanisme" --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty calendar -o demo-out/upkeep.ics --convention $$id --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty due --within 730d --convention $$id --workspace $(DEMO_WS) || test $$? -eq 1; \
	$(BIN)/fiftyfifty archive verify --workspace $(DEMO_WS)
	@echo "Upkeep calendar: demo-out/upkeep.ics (open it in Thunderbird or Outlook)."
	@echo "== 8. Hand the signed skate-park convention to the archive service (SEDA 2.1), publish the grants (SCDL), the yearly report"
	@set -e; \
	eval "$$($(BIN)/fiftyfifty registry list --workspace $(DEMO_WS) --json | $(BIN)/python -c \
	  'import json,sys; c=next(c for c in json.load(sys.stdin)["conventions"] if c["reference"]=="FF-2026-SKATEPARK"); print("id=%s year=%s" % (c["id"], c["year"]))')"; \
	$(BIN)/fiftyfifty archive export-seda $$id -o demo-out/transfert-seda.zip --archival-agency FRAD062 --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty registry show $$id --workspace $(DEMO_WS) | grep -i "archives"; \
	$(BIN)/fiftyfifty opendata subventions --year $$year -o demo-out/subventions-$$year.csv --siret 21620528000017 --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty report --year $$year -o demo-out/rapport-$$year.pdf --html demo-out/rapport-$$year --workspace $(DEMO_WS)
	@echo "== 9. Sign online: the server, an invitation, one holder signs in Chromium"
	$(BIN)/python bench/web_demo.py $(DEMO_WS)
	$(BIN)/fiftyfifty archive verify --workspace $(DEMO_WS)
	@echo "== 10. A back-office account for the browser (password in demo-out/admin-password.txt)"
	@$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))' > demo-out/admin-password.txt
	FF_DEMO_ADMIN_PASS="$$(cat demo-out/admin-password.txt)" $(BIN)/fiftyfifty users add admin --name "Administrateur de démonstration" --role admin --password-env FF_DEMO_ADMIN_PASS --workspace $(DEMO_WS)
	$(BIN)/fiftyfifty users list --workspace $(DEMO_WS)
	@echo "Done: conventions in $(DEMO_WS)/archive, reports in demo-out/."

docs: venv
	$(BIN)/python -m pipeline.cli.docs

bench: system venv
	@if ! /usr/bin/python3 -c 'import uno' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the benchmark's system packages: $(BENCH_PACKAGES)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES) >/dev/null; \
	  else \
	    echo "The benchmark's peer needs: sudo apt-get install $(BENCH_PACKAGES)"; \
	  fi; \
	fi
	$(BIN)/python bench/run.py

screenshots: system venv
	$(BIN)/python tests/make_screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) demo-out build *.egg-info

# Messages: extract the English message ids (and the command line's help texts), merge
# them into the French catalogs of each domain, compile the .mo files (click.po holds
# click's own words, "Usage:"…, kept by hand).
I18N_KEYWORDS := --no-location --omit-header -k N_ -k ngettext:1,2
i18n: venv
	$(BIN)/pybabel extract $(I18N_KEYWORDS) -o pipeline/locale/validation.pot pipeline/intake pipeline/validation schemas
	$(BIN)/pybabel extract $(I18N_KEYWORDS) -o pipeline/locale/cli.pot pipeline/cli pipeline/core pipeline/catalogue pipeline/records/registry/db.py pipeline/records/registry/users.py pipeline/documents/convert/_checks.py
	$(BIN)/python -m pipeline.cli.localise pipeline/locale/cli.pot
	$(BIN)/pybabel update --no-wrap -N -D validation -i pipeline/locale/validation.pot -d pipeline/locale -l fr
	$(BIN)/pybabel update --no-wrap -N -D cli -i pipeline/locale/cli.pot -d pipeline/locale -l fr
	$(BIN)/pybabel compile -d pipeline/locale -D validation -l fr
	$(BIN)/pybabel compile -d pipeline/locale -D cli -l fr
	$(BIN)/pybabel compile -d pipeline/locale -D click -l fr
	@rm -f pipeline/locale/*.pot
