# drover — run `make` for the list of targets.
SHELL := /bin/bash
GO ?= go
export GIT_CONFIG_GLOBAL := /dev/null
export GIT_CONFIG_NOSYSTEM := 1
BIN := bin/drover
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/drover and bin/drover-exec
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/drover
	$(GO) build -o $(dir $(BIN))drover-exec ./cmd/drover-exec

.PHONY: test
test: ## run every test: unit, golden, real supervisord/nginx/nftables end-to-end (as root)
	$(GO) test -count=1 ./...

.PHONY: e2e
e2e: ## run only the end-to-end testscripts and real-tool tests
	$(GO) test -count=1 -run 'TestScripts|TestReal' ./cmd/drover/

.PHONY: bench
bench: ## run the benchmarks on generated large repositories
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: fuzz
fuzz: ## fuzz the config decoder, supervisord's XML-RPC answers and its event stream (FUZZTIME=1m each)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $${FUZZTIME:-1m} ./spec/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResponse$$' -fuzztime $${FUZZTIME:-1m} ./agent/supervisor/
	$(GO) test -run '^$$' -fuzz '^FuzzListen$$' -fuzztime $${FUZZTIME:-1m} ./agent/supervisor/

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

.PHONY: update-golden
update-golden: ## rewrite golden files from the current output
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

.PHONY: demo
demo: build ## converge a config repo with the real agent, supervisord and nginx (root; cleans up)
	DROVER_BIN=$(abspath $(BIN)) examples/demo/demo.sh
