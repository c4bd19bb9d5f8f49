# Baton: `make run` serves the app with demo data, `make test` runs every test.
# The go command fetches this toolchain from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
GO ?= go

.PHONY: run build test deps clean

run: deps build
	BATON_DEMO=1 ./bin/baton

build:
	$(GO) build -o bin/baton ./server

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# System packages (PostgreSQL server) the server and tests need.
deps:
	@.ci/deps.sh

clean:
	rm -rf bin
