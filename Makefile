# firelane: the commands a developer runs. `make help` lists them.
GO ?= go

.PHONY: help test local lint

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

test: ## vet and run every test (what CI runs)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

local: ## run the whole pipeline locally on the valid samples; the lake lands in ./lake
	$(GO) run ./cmd/firelane local -out lake

lint: ## lint the SAM template
	cfn-lint template.yaml
