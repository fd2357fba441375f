# Marquee — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
LOCAL := .local
GOLANGCI_VERSION := v2.15.0
GOLANGCI := $(LOCAL)/bin/golangci-lint

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run Marquee embedded: every path in one process, demo data, no external services
	$(GO) run ./cmd/marquee serve

.PHONY: build
build: ## Build bin/marquee
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/marquee ./cmd/marquee

.PHONY: services
services: ## Install (if missing) and start PostgreSQL 15 + pgvector, Redis, MinIO and Chromium (deploy/local, needs root)
	bash deploy/local/postgres.sh
	bash deploy/local/redis.sh
	bash deploy/local/minio.sh
	bash deploy/local/chromium.sh

.PHONY: run-services
run-services: services ## Run Marquee on the local PostgreSQL + pgvector, Redis and MinIO (Kafka stays embedded, its log in .local/kafka-marquee)
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'marquee'" | grep -q 1 || \
		psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE marquee"
	MARQUEE_DATABASE_URL=$${MARQUEE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/marquee?sslmode=disable} \
	MARQUEE_REDIS_URL=$${MARQUEE_REDIS_URL:-redis://127.0.0.1:6379/0} \
	MARQUEE_S3_ENDPOINT=$${MARQUEE_S3_ENDPOINT:-127.0.0.1:9000} MARQUEE_S3_ACCESS_KEY=$${MARQUEE_S3_ACCESS_KEY:-minioadmin} \
	MARQUEE_S3_SECRET_KEY=$${MARQUEE_S3_SECRET_KEY:-minioadmin} \
	MARQUEE_KAFKA_DATA_DIR=$${MARQUEE_KAFKA_DATA_DIR:-$(CURDIR)/$(LOCAL)/kafka-marquee} \
	MARQUEE_DATASET=$${MARQUEE_DATASET:-} MARQUEE_DEMO=$${MARQUEE_DEMO:-true} \
		$(GO) run ./cmd/marquee serve

.PHONY: test
test: services ## Start the local services, then run every test (race detector on)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

.PHONY: test-cluster
test-cluster: services ## Run the cluster tests (real marquee processes on loopback) without the race detector: Proto.Actor's cluster code races
	$(GO) test -count=1 -timeout 15m -run Cluster ./...

.PHONY: bench-cluster
bench-cluster: services ## Measure 1, 2 and 3 clustered nodes on this machine (throughput, CPU per node)
	MARQUEE_CLUSTER_BENCH=1 $(GO) test -count=1 -v -timeout 15m -run TestClusterThroughput ./cmd/marquee/

.PHONY: test-short
test-short: ## Run the tests without the race detector
	$(GO) test -count=1 ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME executions (default 200000x: a count, since a duration races the Go 1.26 fuzz coordinator, golang/go#75804)
	@for target in "FuzzEventsBody ./openapi" "FuzzDecode ./adapters/kafka" "FuzzRecordReader ./adapters/movielens" "FuzzParseUDataLine ./adapters/movielens" "FuzzParseUItemLine ./adapters/movielens" "FuzzDecode ./adapters/parquet" "FuzzDecode ./adapters/redis" "FuzzStorableText ./adapters/postgres" "FuzzRecommendationsJSON ./openapi"; do \
		set -- $$target; echo "fuzz $$1 ($$2)"; \
		$(GO) test -list="^$$1$$" $$2 | grep -qx "$$1" || { echo "no fuzz target $$1 in $$2"; exit 1; }; \
		$(GO) test -run='^$$' -fuzz="^$$1$$" -fuzztime=$${FUZZTIME:-200000x} -fuzzminimizetime=100x $$2 || exit 1; \
	done

.PHONY: soak
soak: services ## Soak a node on the real services for SOAK (default 10m): flat memory, goroutines, descriptors; produced = stored + archived
	MARQUEE_SOAK=$${SOAK:-10m} MARQUEE_SOAK_HEAP_PROFILE=$(CURDIR)/$(BIN)/soak-heap.pprof $(GO) test -run '^TestSoak$$' -count=1 -v -timeout 60m ./bootstrap/

.PHONY: bench
bench: ## Run the Go benchmarks of the hot paths (6 runs each; summarize with benchstat)
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 ./actors/ ./bootstrap/ ./adapters/kafka/ ./adapters/movielens/ ./domain/als/

.PHONY: openapi
openapi: ## Regenerate openapi/openapi.yaml from the code
	$(GO) run ./cmd/marquee openapi -o openapi/openapi.yaml

.PHONY: lint
lint: $(GOLANGCI) ## gofmt, go vet and golangci-lint (linters listed in .golangci.yml)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GOLANGCI) run ./...

$(GOLANGCI):
	GOBIN=$(abspath $(LOCAL)/bin) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

.PHONY: tidy
tidy: ## go mod tidy
	$(GO) mod tidy

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BIN)

# --- SDKs (clients/) ---
# The contract (openapi/openapi.yaml, OpenAPI 3.1, and its 3.0 form) is
# generated from openapi/*.go; the Go SDK (clients/go/marquee, oapi-codegen
# run with `go run`, so it is no dependency of the module) and the
# TypeScript SDK (clients/typescript, openapi-typescript + openapi-fetch,
# pinned in its package-lock.json) are generated from the contract.
NPM    ?= npm
SDK_TS := clients/typescript
SDK_GENERATED := openapi/openapi.yaml openapi/openapi-3.0.yaml clients/go/marquee/marquee.gen.go $(SDK_TS)/src/schema.ts

.PHONY: sdk
sdk: $(SDK_TS)/node_modules/.package-lock.json ## Regenerate the OpenAPI spec (3.1 and 3.0) and both client SDKs
	$(GO) run ./cmd/marquee openapi -o openapi/openapi.yaml
	$(GO) generate ./clients/go/...
	cd $(SDK_TS) && $(NPM) run --silent generate

.PHONY: sdk-check
sdk-check: ## Regenerate the spec and SDKs into the tree; fail if that changed any of them
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for f in $(SDK_GENERATED); do mkdir -p "$$tmp/$$(dirname $$f)"; [ ! -e "$$f" ] || cp "$$f" "$$tmp/$$f"; done; \
	$(MAKE) --no-print-directory sdk >/dev/null || exit 1; \
	stale=0; for f in $(SDK_GENERATED); do diff -uN "$$tmp/$$f" "$$f" >/dev/null || { echo "out of date: $$f"; diff -uN "$$tmp/$$f" "$$f" | head -40; stale=1; }; done; \
	if [ $$stale = 1 ]; then echo "the committed spec or SDKs differ from what the code generates: run make sdk and commit the result"; exit 1; fi; \
	echo "spec and SDKs are up to date"

.PHONY: sdk-test
sdk-test: $(SDK_TS)/node_modules/.package-lock.json ## Build the TypeScript SDK and run its test against a live embedded Marquee
	cd $(SDK_TS) && $(NPM) test

.PHONY: spec-lint
spec-lint: $(SDK_TS)/node_modules/.package-lock.json ## Lint the OpenAPI contract, 3.1 and 3.0 (Redocly CLI; rules in openapi/redocly.yaml)
	cd $(SDK_TS) && $(NPM) run --silent lint:spec

$(SDK_TS)/node_modules/.package-lock.json: $(SDK_TS)/package.json $(SDK_TS)/package-lock.json
	cd $(SDK_TS) && $(NPM) ci --no-audit --no-fund
# --- end SDKs ---

# --- web dashboard ---
# The dashboard's sources are in web/src; web/dist is the built bundle the
# binary embeds (committed, so the Go build never needs Node). Node 20+.

.PHONY: web
web: ## Build the dashboard into web/dist (npm ci, node tests, esbuild bundle of Chart.js)
	cd web && npm ci --no-audit --no-fund && npm test && npm run build

.PHONY: web-check
web-check: web ## Rebuild the dashboard and fail if web/dist differs from what is committed
	@if [ -n "$$(git status --porcelain -- web/dist)" ]; then \
		git status --short -- web/dist; echo "web/dist is out of date: run make web and commit it"; exit 1; \
	fi
# --- end web dashboard ---

# --- load generator ---
# `make bench-load` builds bin/marquee, starts a node on BENCH_ADDR (demo
# data and a model trained at start unless BENCH_ENV configures stores),
# waits until it is ready, and drives it with `marquee bench` (every
# scenario, 3 runs each; BENCH_ARGS adds or overrides flags, see
# `marquee bench -h`). The node runs without rate limits, archiving or
# scheduled training, so that nothing but the load moves its counters.
# Real services: make bench-load BENCH_ENV='MARQUEE_DATABASE_URL=… MARQUEE_REDIS_URL=…'
# (see BENCHMARKS.md for the data set and the exact commands).
BENCH_ADDR ?= 127.0.0.1:18080
BENCH_ENV  ?=
BENCH_ARGS ?=
BENCH_NODE := MARQUEE_HTTP_ADDR=$(BENCH_ADDR) MARQUEE_RATE_LIMIT=off MARQUEE_ARCHIVE_EVERY=off MARQUEE_TRAIN_CRON=off MARQUEE_LOG_LEVEL=warn

.PHONY: bench-load
bench-load: build ## Start a node and load-test it with marquee bench (BENCH_ENV configures the node, BENCH_ARGS the load)
	@set -e; env $(BENCH_NODE) $(BENCH_ENV) $(BIN)/marquee serve > $(BIN)/bench-node.log 2>&1 & node=$$!; \
	trap 'kill $$node 2>/dev/null; wait $$node 2>/dev/null || true' EXIT; \
	echo "node starting (pid $$node, log $(BIN)/bench-node.log)"; \
	for i in $$(seq 600); do \
		curl -sf http://$(BENCH_ADDR)/readyz >/dev/null && break; \
		kill -0 $$node 2>/dev/null || { tail -20 $(BIN)/bench-node.log; exit 1; }; sleep 1; \
	done; \
	$(BIN)/marquee bench -url http://$(BENCH_ADDR) $(BENCH_ARGS)

# `make bench-tiers` runs, against the node at BENCH_URL, the scenarios of
# BENCHMARKS.md "Over HTTP, per tier": each serving tier alone, freshness,
# ingest, then all streams at once; Markdown on stdout. The vector stream
# takes users from 500 on: the batch stream cancels its users' histories
# with dislikes, which a later vector stream's views could not outweigh.
BENCH_URL ?= http://$(BENCH_ADDR)
BENCH_ONE := -cache-rate 0 -vector-rate 0 -batch-rate 0 -popular-rate 0

.PHONY: bench-tiers
bench-tiers: build ## Run the per-tier, freshness and ingest scenarios of BENCHMARKS.md against the node at BENCH_URL
	@set -e; b="$(BIN)/marquee bench -url $(BENCH_URL)"; \
	for tier in "-cache-rate 1000" "-cache-rate 5000" "-vector-rate 100 -first-user 500" "-batch-rate 100" "-popular-rate 200"; do \
		$$b -runs 3 -duration 8s -scenario serving $(BENCH_ONE) $$tier; \
	done; \
	$$b -runs 3 -scenario freshness; \
	$$b -runs 3 -scenario ingest -ingest-duration 10s; \
	$$b -runs 1 -duration 8s -scenario serving -cache-rate 2000
# `make bench-ingest-pair BEFORE=… AFTER=…` compares ingest end to end of
# two builds on PostgreSQL + Redis, alternating rounds (loadgen/compare-ingest.sh).
.PHONY: bench-ingest-pair
bench-ingest-pair: ## Ingest end to end of two builds side by side on PostgreSQL + Redis (BEFORE=binary, AFTER=binary, default bin/marquee)
	BEFORE=$(BEFORE) AFTER=$${AFTER:-$(BIN)/marquee} bash loadgen/compare-ingest.sh
# `make bench-tiers-pair BEFORE=… AFTER=…` runs the bench-tiers scenarios
# against two builds on PostgreSQL + Redis, each scenario on both in turn
# (loadgen/compare-tiers.sh).
.PHONY: bench-tiers-pair
bench-tiers-pair: build ## The bench-tiers scenarios on two builds side by side on PostgreSQL + Redis (BEFORE=binary, AFTER=binary)
	BEFORE=$(BEFORE) AFTER=$${AFTER:-$(BIN)/marquee} bash loadgen/compare-tiers.sh
# `make bench-saturation-pair BEFORE=… AFTER=…` runs the closed-loop
# saturation scenario against two builds (or two settings: BEFORE_ENV,
# AFTER_ENV) side by side on MovieLens-100K (loadgen/compare-saturation.sh;
# MODE=embedded for no external store).
.PHONY: bench-saturation-pair
bench-saturation-pair: build ## Saturation (32 connections closed loop) of two builds side by side on MovieLens-100K (BEFORE, AFTER, MODE)
	BEFORE=$(BEFORE) AFTER=$${AFTER:-$(BIN)/marquee} bash loadgen/compare-saturation.sh
# --- end load generator ---

# --- deployment images and stacks (deploy/) ---
# The images are built with Docker (BuildKit); deploy/README.md explains the
# compose stack and the Kubernetes manifests, which `go test ./deploy/` checks.
IMAGE ?= marquee:dev

.PHONY: image
image: ## Build the container image $(IMAGE) from deploy/Dockerfile (Docker with BuildKit)
	docker build -f deploy/Dockerfile -t $(IMAGE) .

.PHONY: compose-keys
compose-keys: ## Make API keys for deploy/compose.yaml in deploy/secrets/ (hashes in api-keys.txt, secrets in *.key)
	bash deploy/make-keys.sh deploy/secrets
# --- end deployment ---

.PHONY: proto
proto: ## Regenerate the Go code of proto/ (protoc from Debian's protobuf-compiler, protoc-gen-go at go.mod's google.golang.org/protobuf version)
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler"; exit 1; }
	GOBIN=$(abspath $(LOCAL)/bin) GOFLAGS= $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$$($(GO) list -m -f '{{.Version}}' google.golang.org/protobuf)
	PATH=$(abspath $(LOCAL)/bin):$$PATH protoc --proto_path=proto --go_out=proto --go_opt=paths=source_relative $$(cd proto && find . -name '*.proto' | sed 's|^\./||')
