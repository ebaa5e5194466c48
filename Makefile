# cosign-like: build, test, demo, bench.
export GOTOOLCHAIN := local
GO       ?= go
BIN      := bin/cosign-like
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build test test-unit test-integration test-interop deps demo bench lint fuzz clean

all: build

# The linker writes its output through a shared mapping, which leaves the file in the page cache
# in 2 MiB folios that the kernel then maps whole at every start of the program (about 10 MiB more
# resident memory); installing a copy with ordinary writes, as a package manager would, avoids it.
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN).linked ./cmd/cosign-like
	install -m 0755 $(BIN).linked $(BIN)
	rm -f $(BIN).linked

# deps installs the system packages the tests start as real processes (Debian), and builds the
# peer programs (versitygw among them, which the log's storage tests run) into the peer cache.
deps:
	bash scripts/test-deps.sh
	bash scripts/peers.sh

# test runs the unit tests, then the integration tests against real server processes.
test: deps lint build
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) test-interop

test-unit:
	$(GO) test -count=1 -short ./...

# test-interop runs the peers (cosign, sigstore-go, sigstore-js, containers/image) on what we
# write and against our servers; scripts/peers.sh builds the peer programs at pinned versions
# into a cache directory first. The peers live in separate modules so that they stay out of the
# product's dependency graph.
INTEROP_TAGS := containers_image_openpgp,exclude_graphdriver_btrfs
test-interop:
	bash scripts/peers.sh
	cd test/interop && $(GO) test -mod=mod -tags $(INTEROP_TAGS) -count=1 -timeout 20m ./...
	cd pkg/signer/kmsplugin/interop && $(GO) test -mod=mod -count=1 -timeout 10m ./...

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin
