# Baton: `make run` serves the app with demo data, `make test` runs every test.
# The go command fetches this toolchain from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOSEC := github.com/securego/gosec/v2/cmd/gosec@v2.30.0
NPM_INSTALLED := frontend/node_modules/.package-lock.json

.PHONY: run build frontend test lint audit bench scale chaos fuzz deps deps-test deps-scale clean

run: deps build
	BATON_DEMO=1 ./bin/baton

build: frontend
	$(GO) build -o bin/baton ./server

# The browser app: npm packages from the lockfile, then a Vite build into
# frontend/dist, which the binary embeds.
$(NPM_INSTALLED): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend: $(NPM_INSTALLED)
	cd frontend && npm run build

test: deps-test frontend lint
	cd frontend && npm test
	$(GO) test -race -count=1 ./...

lint: $(NPM_INSTALLED)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(GOSEC) -quiet -exclude-dir=frontend/node_modules ./...
	cd frontend && npx --no-install redocly lint ../server/web/openapi.json

# Known vulnerabilities in the dependencies and the standard library.
audit:
	@.ci/audit.sh

# Load test: a private PostgreSQL, a fresh server build and the same-run
# baselines (pgbench, a bare Echo + pgx handler); a table on stdout and
# bench.json. PROFILE=1 also saves CPU and heap profiles next to it. It
# measures the API, so the committed frontend/dist is embedded as it is
# rather than rebuilt.
bench: deps
	$(GO) run ./server/cmd/bench -out bench.json $(if $(filter 1,$(PROFILE)),-profile)

# The topology test at length: a primary and its streaming replica,
# PgBouncer in transaction mode, three instances behind HAProxy; 30-second
# phases (steady, an instance killed, restarted, the replica down, back),
# a table on stdout and scale.json. make test runs a short version
# (server/scaletest).
scale: deps-scale
	$(GO) run ./server/cmd/scale -out scale.json

# The fault tests with a ten-second database outage instead of three, and
# a 30-second LRS outage instead of three.
chaos:
	BATON_CHAOS=1 $(GO) test -race -count=1 -v -run 'DatabaseOutage|SIGTERMUnderLoad|SeveralInstances|CrashRecovery' ./server/app/
	BATON_CHAOS=1 $(GO) test -race -count=1 -v -run 'LRSOutageLosesNothing' ./server/xapi/

# Explore the fuzz targets beyond their committed seeds (30 s each).
fuzz:
	$(GO) test -run XXX -fuzz FuzzLoad -fuzztime 30s ./lessons/
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 30s ./quizzes/
	$(GO) test -run XXX -fuzz FuzzJSON -fuzztime 30s ./server/web/bind/

# System packages: PostgreSQL and Node.js; the tests also need Chromium and
# the npm packages of their OpenID provider (server/idptest/node) and learning record store
# (server/lrstest/node).
deps:
	@.ci/deps.sh

deps-test:
	@.ci/deps.sh --browser

deps-scale:
	@.ci/deps.sh --scale

clean:
	rm -rf bin frontend/node_modules server/idptest/node/node_modules server/lrstest/node/node_modules server/ltitest/node/node_modules
