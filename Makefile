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
services: ## Install (if missing) and start PostgreSQL 15 + pgvector and Redis on loopback (deploy/local, needs root)
	bash deploy/local/postgres.sh
	bash deploy/local/redis.sh

.PHONY: run-services
run-services: services ## Run Marquee on the local PostgreSQL + pgvector and Redis (Kafka stays embedded)
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'marquee'" | grep -q 1 || \
		psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE marquee"
	MARQUEE_DATABASE_URL=$${MARQUEE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/marquee?sslmode=disable} \
	MARQUEE_REDIS_URL=$${MARQUEE_REDIS_URL:-redis://127.0.0.1:6379/0} \
	MARQUEE_DATASET=$${MARQUEE_DATASET:-} MARQUEE_DEMO=$${MARQUEE_DEMO:-true} \
		$(GO) run ./cmd/marquee serve

.PHONY: test
test: services ## Start the local services, then run every test (race detector on)
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

.PHONY: test-short
test-short: ## Run the tests without the race detector
	$(GO) test -count=1 ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	@for target in "FuzzEventsBody ./openapi" "FuzzDecode ./adapters/kafka" "FuzzRecordReader ./adapters/movielens" "FuzzParseUDataLine ./adapters/movielens" "FuzzParseUItemLine ./adapters/movielens"; do \
		set -- $$target; echo "fuzz $$1 ($$2)"; \
		$(GO) test -run='^$$' -fuzz="^$$1$$" -fuzztime=$${FUZZTIME:-30s} $$2 || exit 1; \
	done

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
