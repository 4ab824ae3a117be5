# fiftyfifty — the two front-door commands are `make demo` and `make test`.
# Each bootstraps what it needs: system packages (apt-get, when root), a .venv, the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the project needs at run time and in tests.
SYSTEM_PACKAGES := libreoffice-writer-nogui poppler-utils qpdf fonts-dejavu-core fonts-liberation2 zbar-tools softhsm2 opensc faketime
# A command that must exist for each package above, in the same order.
SYSTEM_COMMANDS := soffice pdftotext qpdf /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf zbarimg softhsm2-util pkcs11-tool faketime
DEMO_WS := demo-out/workspace

.PHONY: demo test bench lint system venv clean help docs

help:
	@echo "make demo   run the whole job on the bundled examples into $(DEMO_WS)"
	@echo "make test   run the lint, type checks and the whole test suite"
	@echo "make bench  measure throughput against LibreOffice's own limit (BENCH_N=300)"

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
	$(BIN)/ruff check pipeline schemas tests
	$(BIN)/mypy

test: system venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

demo: system venv
	@rm -rf demo-out && mkdir -p demo-out
	@echo "== 1. Validate the bundled examples (one CSV row is wrong on purpose)"
	$(BIN)/fiftyfifty validate conventions/examples/* --report demo-out/validation.csv || test $$? -eq 1
	@echo "== 2. Produce the conventions"
	$(BIN)/fiftyfifty run conventions/examples/* --workspace $(DEMO_WS) --report demo-out/run-report.csv || test $$? -eq 1
	@echo "== 3. A throw-away PKI (certificates in the signatories' names, its root trusted by the workspace, its timestamp authority served on 127.0.0.1), then every signatory of the skate-park convention signs at B-LTA, the mayor last"
	@set -e; \
	id=$$($(BIN)/fiftyfifty registry list --workspace $(DEMO_WS) --json | $(BIN)/python -c \
	  'import json,sys; print(next(c["id"] for c in json.load(sys.stdin)["conventions"] if c["reference"]=="FF-2026-SKATEPARK"))'); \
	$(BIN)/fiftyfifty registry show $$id --workspace $(DEMO_WS) --json | $(BIN)/python -c \
	  'import json,sys; sys.stdout.write("".join("--role=%s=%s\0" % (s["key"], s["name"]) for s in json.load(sys.stdin)["signatories"]))' \
	  | xargs -0 $(BIN)/fiftyfifty demo-pki demo-out/pki; \
	$(BIN)/fiftyfifty trust add demo-out/pki/ca.pem --workspace $(DEMO_WS); \
	$(BIN)/fiftyfifty demo-pki-serve demo-out/pki 2>/dev/null & server=$$!; \
	trap 'kill $$server 2>/dev/null' EXIT; \
	tsa=$$($(BIN)/python -c 'import json; print(json.load(open("demo-out/pki/ca/pki.json"))["base_url"] + "/tsa")'); \
	for i in $$(seq 50); do $(BIN)/python -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
	  $${tsa%/tsa}/crl/root.crl 2>/dev/null && break; sleep 0.2; done; \
	export FF_DEMO_PASS="$$(cat demo-out/pki/PASSPHRASE.txt)"; \
	for role in $$($(BIN)/fiftyfifty registry show $$id --workspace $(DEMO_WS) --json | $(BIN)/python -c \
	  'import json,sys; print(" ".join(s["key"] for s in json.load(sys.stdin)["signatories"]))'); do \
	  $(BIN)/fiftyfifty sign $$id --signatory $$role --pkcs12 demo-out/pki/$$role.p12 \
	    --passphrase-env FF_DEMO_PASS --level B-LTA --timestamp-url $$tsa \
	    --location Loos-en-Gohelle --workspace $(DEMO_WS); \
	done; \
	echo "== 4. Verify the signed convention against the workspace's trust roots"; \
	$(BIN)/fiftyfifty verify $$id --workspace $(DEMO_WS); \
	kill $$server; wait $$server 2>/dev/null || true; trap - EXIT
	@echo "== 5. Check the whole archive"
	$(BIN)/fiftyfifty archive verify --workspace $(DEMO_WS)
	@echo "Done: conventions in $(DEMO_WS)/archive, reports in demo-out/."

docs: venv
	$(BIN)/python -m pipeline.cli.docs

bench: system venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo-out build *.egg-info
