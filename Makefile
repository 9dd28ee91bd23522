# firelane: the commands a developer runs. `make help` lists them.
GO ?= go

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set, in a copy
# of CodeUri (the repository root, so that the one go.mod is there). Every function is a static
# linux/arm64 bootstrap without the RPC shim, as provided.al2023 on Graviton wants.
#
# TRACING picks the one tracer compiled in (docs/operations.md section 6): xray, the X-Ray SDK
# (the default), or otel, OpenTelemetry with OTLP export, which leaves the X-Ray SDK out. sam build
# runs make in its own environment, so `TRACING=otel sam build` selects it (with --use-container,
# pass --container-env-var TRACING=otel).
TRACING ?= xray
ifeq ($(filter $(TRACING),xray otel),)
$(error TRACING=$(TRACING): want xray or otel)
endif
TRACING_TAGS = $(if $(filter otel,$(TRACING)),$(comma)otel)
comma := ,
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc$(TRACING_TAGS) -trimpath -buildvcs=false -ldflags='-s -w'

FUNCTION ?= TransformFunction
EVENT ?= events/transform/firehose-batch.json
ENDPOINT ?=

.PHONY: help test local lint build invoke build-IngestFunction build-EnrichFunction build-TransformFunction

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

test: ## vet and run every test (what CI runs), and the tracing package's with the OpenTelemetry build tag
	$(GO) vet ./...
	$(GO) vet -tags otel ./internal/obs/...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags otel ./internal/obs/...

local: ## run the whole pipeline locally on the valid samples; the lake lands in ./lake
	$(GO) run ./cmd/firelane local -out lake

lint: ## lint the SAM template
	cfn-lint template.yaml

build: ## build every function as sam build does, into .aws-sam/build/<LogicalId>/bootstrap
	$(MAKE) build-IngestFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/IngestFunction
	$(MAKE) build-EnrichFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/EnrichFunction
	$(MAKE) build-TransformFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/TransformFunction

invoke: ## run one function as sam local invoke does: make invoke FUNCTION=TransformFunction EVENT=events/transform/firehose-batch.json [ENDPOINT=http://127.0.0.1:5000]
	$(GO) run ./cmd/firelane invoke -function $(FUNCTION) -event $(EVENT) $(if $(ENDPOINT),-endpoint $(ENDPOINT))

build-IngestFunction:
	$(call lambda,ingest)

build-EnrichFunction:
	$(call lambda,enrich)

build-TransformFunction:
	$(call lambda,transform)

define lambda
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it, or run make build))
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef
