# drover — run `make` for the list of targets.
SHELL := /bin/bash
GO ?= go
export GIT_CONFIG_GLOBAL := /dev/null
export GIT_CONFIG_NOSYSTEM := 1
BIN := bin/drover
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The package's version: a tag v1.2.3 gives 1.2.3 (1.2.3+4+gHASH after it);
# without a tag, 0.0.0+gitN.HASH with N the commit count, so a later commit
# upgrades an earlier one.
PKG_VERSION ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) && echo "$$v" | sed 's/^v//; s/-/+/g' || \
	echo "0.0.0+git$$(git rev-list --count HEAD).$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD || echo .dirty)")
PKG_MAINTAINER ?= drover maintainers <drover@example.invalid>
NFPM := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
DIST ?= dist

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/drover and bin/drover-exec
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/drover
	$(GO) build -o $(dir $(BIN))drover-exec ./cmd/drover-exec

.PHONY: package
package: ## build the Debian package dist/drover_VERSION_ARCH.deb with nfpm (set PKG_MAINTAINER)
	mkdir -p $(DIST)/bin
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(DIST)/bin/drover ./cmd/drover
	$(GO) build -trimpath -ldflags "-s -w" -o $(DIST)/bin/drover-exec ./cmd/drover-exec
	PKG_VERSION='$(PKG_VERSION)' PKG_ARCH=$$($(GO) env GOARCH) PKG_MAINTAINER='$(PKG_MAINTAINER)' PKG_BIN='$(DIST)/bin' \
		$(GO) run $(NFPM) package --config packaging/nfpm.yaml --packager deb --target $(DIST)/

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
