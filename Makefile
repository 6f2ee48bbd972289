# postmill: everything a fresh machine needs, from a fresh clone.
#   make run    a local stack (emulator + Terraform + function + CDN) serving a site
#   make test   every test: unit, golden, fuzz seeds, integration against the emulator, infra checks
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO        ?= go
TOOLS     := $(CURDIR)/.tools
BIN       := $(TOOLS)/bin
DIST      := $(CURDIR)/dist
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
GOFLAGS_LAMBDA := -trimpath -tags lambda.norpc -ldflags "-s -w -buildid="
export PATH := $(BIN):$(PATH)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

## ---- build -------------------------------------------------------------

.PHONY: build
build: $(FUNCTIONS:%=$(DIST)/%.zip) $(FUNCTIONS:%=$(DIST)/local/%/bootstrap) ## Build every function: arm64 zips for AWS, host binaries for the local stack

# The zip Lambda runs: linux/arm64 for provided.al2023, fixed timestamps so
# the same source gives the same zip (and Terraform sees no change).
$(DIST)/%.zip: FORCE
	@mkdir -p $(DIST)/lambda/$*
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(DIST)/lambda/$*/bootstrap ./functions/$*
	@command -v zip >/dev/null || $(MAKE) apt-zip
	@touch -d 2000-01-01T00:00:00Z $(DIST)/lambda/$*/bootstrap
	@rm -f $@ && cd $(DIST)/lambda/$* && TZ=UTC zip -q -X -D $@ bootstrap
	@echo "built $@ ($$(du -h $@ | cut -f1))"

# The same function for this machine, run by the local stack and the
# integration tests through the Lambda Runtime API.
$(DIST)/local/%/bootstrap: FORCE
	@mkdir -p $(@D)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o $@ ./functions/$*

.PHONY: apt-zip
apt-zip:
	apt-get update -qq && apt-get install -y -qq zip >/dev/null

FORCE:

## ---- checks ------------------------------------------------------------

.PHONY: fmt
fmt: ## Format Go and Terraform sources
	gofmt -w $$(git ls-files '*.go')
	terraform fmt -recursive infra

.PHONY: vet
vet: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet

## ---- tests -------------------------------------------------------------

.PHONY: test
test: vet build readers-deps ## Run every test (unit, golden, integration against the emulator, browser, infra)
	ARTIFACTS=$(DIST)/artifacts/readers $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) test-infra

# The readers' tests drive Debian's Chromium with playwright-core and parse
# feeds with an npm client; both are installed here, never downloaded by
# the tests.
READERS := testdata/readers

.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

$(READERS)/node_modules/.package-lock.json: $(READERS)/package.json $(READERS)/package-lock.json
	npm ci --prefix $(READERS) --no-audit --no-fund

.PHONY: readers-deps
readers-deps: chromium $(READERS)/node_modules/.package-lock.json

.PHONY: test-readers
test-readers: readers-deps ## Browser and feed-reader tests; screenshots in dist/artifacts/readers
	ARTIFACTS=$(DIST)/artifacts/readers $(GO) test -count=1 -v ./internal/readers

.PHONY: test-unit
test-unit: ## Fast tests only (no emulator)
	POSTMILL_SKIP_INTEGRATION=1 $(GO) test -short ./...

.PHONY: bench
bench: ## Benchmarks (about 7 min): go test -bench of the core, then publish cost vs site size and Hugo side by side (table in dist/bench.md)
	@command -v hugo >/dev/null || (apt-get update -qq && apt-get install -y -qq hugo >/dev/null)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	@mkdir -p $(DIST)
	$(GO) run ./internal/cmd/bench -out $(DIST)/bench.md

# benchstat compares go test -bench figures of two commits (pinned: the
# module proxy here may not resolve @latest).
BENCHSTAT_VERSION ?= v0.0.0-20260908200009-22c9c6c9d4da
BASE ?= HEAD~1
BENCH ?= .
BENCHCOUNT ?= 6
.PHONY: bench-compare
bench-compare: ## Compare core benchmarks of BASE (default HEAD~1) and the working tree with benchstat: make bench-compare BASE=v1 BENCH=Import
	@mkdir -p $(DIST)/benchstat
	rm -rf $(DIST)/benchstat/base && git worktree add -f --detach $(DIST)/benchstat/base $(BASE) >/dev/null
	@# Benchmarks new since BASE are copied into it, so both sides run the same code.
	for f in $$(git ls-files '*bench_test.go'); do cp $$f $(DIST)/benchstat/base/$$f; done
	cd $(DIST)/benchstat/base && $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) ./internal/... > ../base.txt
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) ./internal/... > $(DIST)/benchstat/head.txt
	git worktree remove --force $(DIST)/benchstat/base
	cd $(DIST)/benchstat && $(GO) run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) base.txt head.txt | tee compare.txt

SOAK_SEEDS ?= 20
SOAK_POSTS ?= 500
.PHONY: soak
soak: ## Long load-and-ordering runs: SOAK_SEEDS (20) seeds of SOAK_POSTS (500) posts, 8 handlers, against the emulator (about 12 min a seed), then in memory
	POSTMILL_SOAK_SEEDS=$(SOAK_SEEDS) POSTMILL_SOAK_MEMORY_SEEDS=$(SOAK_SEEDS) POSTMILL_SOAK_POSTS=$(SOAK_POSTS) \
	  $(GO) test -count=1 -v -timeout 12h -run '^TestSoak(Emulator|Memory)$$' ./functions/render

FUZZTIME ?= 10m
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 10m) each
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

-include infra/infra.mk

## ---- the local stack ----------------------------------------------------

RUN_PORT ?= 4566
# Emulator credentials for the local stack only; deploy uses your own.
run: export AWS_ACCESS_KEY_ID ?= test
run: export AWS_SECRET_ACCESS_KEY ?= test
run: export AWS_DEFAULT_REGION ?= us-east-1
run: export AWS_REGION ?= us-east-1

# make run: the emulator at AWS_ENDPOINT_URL, or moto_server started on
# 127.0.0.1:$(RUN_PORT); the same Terraform applied to it; then devstack
# runs the function behind a local event pump and serves the site on
# http://127.0.0.1:8080/ until interrupted.
.PHONY: run
run: build tf-init ## Run the stack locally: emulator, Terraform, the function, a CDN at http://127.0.0.1:8080/
	@mkdir -p .run
	@endpoint="$${AWS_ENDPOINT_URL:-}"; \
	if [ -z "$$endpoint" ]; then \
	  if (exec 3<>/dev/tcp/127.0.0.1/$(RUN_PORT)) 2>/dev/null; then \
	    echo "port $(RUN_PORT) is taken: stop what runs there, or set AWS_ENDPOINT_URL to use it"; exit 1; fi; \
	  command -v moto_server >/dev/null || { echo "moto_server is not installed: install moto, or set AWS_ENDPOINT_URL"; exit 1; }; \
	  endpoint=http://127.0.0.1:$(RUN_PORT); \
	  moto_server -H 127.0.0.1 -p $(RUN_PORT) > .run/moto.log 2>&1 & moto=$$!; \
	  trap 'kill $$moto 2>/dev/null; wait $$moto 2>/dev/null' EXIT; \
	  rm -f .run/terraform.tfstate .run/terraform.tfstate.backup; \
	  for i in $$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$(RUN_PORT)) 2>/dev/null && break; sleep 0.1; done; \
	fi; \
	export AWS_ENDPOINT_URL=$$endpoint; \
	echo "applying infra/ to $$endpoint (log: .run/terraform.log)" >&2; \
	$(MAKE) tf-apply-local > .run/terraform.log 2>&1 || { tail -40 .run/terraform.log; exit 1; }; \
	$(TERRAFORM) output -state=$(CURDIR)/.run/terraform.tfstate -json > .run/outputs.json; \
	$(GO) build -o $(DIST)/local/devstack ./internal/cmd/devstack; \
	$(DIST)/local/devstack -endpoint "$$endpoint"

# make rebuild: the whole site again from the source bucket (after a theme
# or settings change). Against the running local stack by default; with
# AWS=1 it invokes the deployed rebuild function.
rebuild: export AWS_ACCESS_KEY_ID ?= test
rebuild: export AWS_SECRET_ACCESS_KEY ?= test
rebuild: export AWS_REGION ?= us-east-1
.PHONY: rebuild
rebuild: $(DIST)/local/rebuild/bootstrap ## Rebuild the whole site from the source bucket (local stack; AWS=1 for the deployed one)
ifdef AWS
	fn=$$($(TERRAFORM) output -json function_names | python3 -c 'import json,sys; print(json.load(sys.stdin)["rebuild"])'); \
	aws lambda invoke --function-name "$$fn" --cli-read-timeout 900 --payload '{}' /dev/stdout
else
	AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:$(RUN_PORT)} $(GO) run ./internal/cmd/invoke -bootstrap $(DIST)/local/rebuild/bootstrap
endif

.PHONY: redrive
redrive: export AWS_ACCESS_KEY_ID ?= test
redrive: export AWS_SECRET_ACCESS_KEY ?= test
redrive: export AWS_REGION ?= us-east-1
redrive: ## Move the local stack's dead-lettered events back to its queue (fix their cause first)
	$(GO) run ./internal/cmd/redrive -endpoint "$${AWS_ENDPOINT_URL:-http://127.0.0.1:$(RUN_PORT)}" -outputs .run/outputs.json

.PHONY: test-faults
test-faults: ## Fault injection only: AWS errors, throttling, resets, poison messages, killed functions
	$(GO) test -count=1 -v -run 'Fault|Poison|Killed|CommitWhose|NeighbourMonth' ./internal/faultproxy ./functions/render

## ---- authoring ---------------------------------------------------------

# The authors' tool, built for this machine (internal/cmd/postmill).
POSTMILL := $(DIST)/local/postmill
$(POSTMILL): FORCE
	@mkdir -p $(@D)
	@$(GO) build -o $@ ./internal/cmd/postmill

.PHONY: check
check: $(POSTMILL) ## Check posts as the function would: make check POSTS="a.md b.md" (default: testdata/posts)
	@$(POSTMILL) check $(or $(POSTS),testdata/posts)

.PHONY: preview
preview: $(POSTMILL) ## Serve posts at http://127.0.0.1:1313/ as the CDN would, edits shown on reload: make preview DIR=drafts
	@$(POSTMILL) preview -watch $(if $(ADDR),-addr $(ADDR)) $(or $(DIR),testdata/posts)

# publish and status talk to the local stack (make run) by default; with
# AWS=1 to the deployed one (its source bucket from Terraform's state, or
# BUCKET=name), with your own AWS credentials.
ifndef AWS
publish status: export AWS_ACCESS_KEY_ID ?= test
publish status: export AWS_SECRET_ACCESS_KEY ?= test
publish status: export AWS_REGION ?= us-east-1
publish status: export AWS_ENDPOINT_URL ?= $(shell cat .run/endpoint 2>/dev/null || echo http://127.0.0.1:$(RUN_PORT))
endif
POSTMILL_BUCKET = $(if $(BUCKET),-bucket $(BUCKET),$(if $(AWS),-bucket "$$($(TERRAFORM) output -raw source_bucket)"))

.PHONY: publish
publish: $(POSTMILL) ## Check posts, upload them and wait for the function: make publish POSTS="a.md b.md" (AWS=1: deployed)
	@test -n "$(POSTS)" || { echo 'name the posts: make publish POSTS="a.md b.md"'; exit 2; }
	@$(POSTMILL) publish -wait $(POSTMILL_BUCKET) $(POSTS)

.PHONY: status
status: $(POSTMILL) ## Print what the function made of a post: make status POST=posts/a.md (AWS=1: deployed)
	@test -n "$(POST)" || { echo 'name the post: make status POST=posts/a.md'; exit 2; }
	@$(POSTMILL) status $(POSTMILL_BUCKET) $(POST)

.PHONY: clean
clean: ## Remove build output and local state
	rm -rf $(DIST) .run
