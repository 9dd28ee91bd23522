# firelane: the commands a developer runs. `make help` lists them.
GO ?= go

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set, in a copy
# of CodeUri (the repository root, so that the one go.mod and template.yaml are there), and tells it
# nothing else: not the function's architecture. So GOARCH comes from the function's Architectures
# in template.yaml (cmd/goarch). Every function is a static linux bootstrap without the RPC shim,
# as provided.al2023 wants.
#
# TRACING picks the one tracer compiled in (docs/operations.md section 7): xray, the X-Ray SDK
# (the default), or otel, OpenTelemetry with OTLP export, which leaves the X-Ray SDK out. make
# reads it from the environment sam build runs it in, so `TRACING=otel sam build` selects it (with
# --use-container, pass --container-env-var TRACING=otel).
TRACING ?= xray
ifeq ($(filter $(TRACING),xray otel),)
$(error TRACING=$(TRACING): want xray or otel)
endif
comma := ,
TRACING_TAGS = $(if $(filter otel,$(TRACING)),$(comma)otel)
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux $(GO) build -tags lambda.norpc$(TRACING_TAGS) -trimpath -buildvcs=false -ldflags='-s -w'

FUNCTION ?= TransformFunction
EVENT ?= events/transform/firehose-batch.json
ENDPOINT ?=

.PHONY: help test local up lint build invoke build-IngestFunction build-EnrichFunction build-TransformFunction

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

test: ## vet and run every test (what CI runs), and the tracing package's with the OpenTelemetry build tag
	$(GO) vet ./...
	$(GO) vet -tags otel ./internal/obs/...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags otel ./internal/obs/...

local: ## run the whole pipeline locally on the valid samples; the lake lands in ./lake
	$(GO) run ./cmd/firelane local -out lake

up: ## run the deployed pipeline on this machine until Ctrl-C: API on 127.0.0.1:3000, lake in ./lake, JSON API under /_console/api/
	$(GO) run ./cmd/firelane up -interval 2s

lint: ## lint the SAM template
	cfn-lint template.yaml

build: ## build every function as sam build does, into .aws-sam/build/<LogicalId>/bootstrap
	$(MAKE) build-IngestFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/IngestFunction
	$(MAKE) build-EnrichFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/EnrichFunction
	$(MAKE) build-TransformFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/TransformFunction

invoke: ## run one function as sam local invoke does: make invoke FUNCTION=TransformFunction EVENT=events/transform/firehose-batch.json [ENDPOINT=http://127.0.0.1:5000]
	$(GO) run ./cmd/firelane invoke -function $(FUNCTION) -event $(EVENT) $(if $(ENDPOINT),-endpoint $(ENDPOINT))

build-IngestFunction:
	$(call lambda,IngestFunction,ingest)

build-EnrichFunction:
	$(call lambda,EnrichFunction,enrich)

build-TransformFunction:
	$(call lambda,TransformFunction,transform)

# lambda builds function $(1) from ./functions/$(2). A failure says what to do, because under
# `sam build --use-container` the Go toolchain is the build image's (docs/deploy.md, "Building").
define lambda
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it, or run make build))
	@command -v $(GO) >/dev/null 2>&1 || { echo "build-$(1): no Go toolchain ($(GO)) on PATH: install Go, or see docs/deploy.md, Building" >&2; exit 127; }
	@arch=$$($(GO) run ./cmd/goarch $(1)) && echo "build-$(1): GOOS=linux GOARCH=$$arch (Architectures in template.yaml)" && \
	GOARCH=$$arch $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(2) || \
	{ echo "build-$(1) failed with $$($(GO) env GOVERSION 2>/dev/null) (go.mod wants $$(sed -n 's/^go //p' go.mod)): see docs/deploy.md, Building" >&2; exit 1; }
endef
