# Infrastructure targets, included by the top-level Makefile.
#   make test-infra      fmt, validate, tfsec, the CloudFront function's tests,
#                        and an apply + destroy against the moto emulator
#   make tf-apply-local  apply to the emulator at AWS_ENDPOINT_URL (make run)
#   make deploy/destroy  a real AWS account (needs AWS credentials)

TF_DIR   := infra
TFRC     := $(TOOLS)/terraformrc
TFSEC    := $(BIN)/tfsec
TFSEC_VERSION := v1.26.0

# Terraform always runs with the CLI configuration written below, never
# with whatever ~/.terraformrc happens to say.
TERRAFORM := env TF_CLI_CONFIG_FILE=$(TFRC) TF_IN_AUTOMATION=1 terraform -chdir=$(TF_DIR)

# A local provider mirror (no registry access needed) if one exists: the
# first of these holding hashicorp/aws, or TF_PLUGIN_MIRROR=<dir>.
TF_PLUGIN_MIRROR_DIRS := /opt/tf-plugins $(HOME)/.terraform.d/plugins /usr/share/terraform/plugins /usr/local/share/terraform/plugins
TF_PLUGIN_MIRROR ?= $(firstword $(foreach d,$(TF_PLUGIN_MIRROR_DIRS),$(if $(wildcard $(d)/registry.terraform.io/hashicorp/aws),$(d))))

# Platforms the committed lock file holds hashes for. With a mirror only
# its platforms can be hashed; `make tf-lock TF_PLUGIN_MIRROR=` on a
# machine with internet adds the others from the registry.
TF_LOCK_PLATFORMS ?= $(if $(TF_PLUGIN_MIRROR),$(notdir $(wildcard $(TF_PLUGIN_MIRROR)/registry.terraform.io/hashicorp/aws/*/*_*)),linux_amd64 linux_arm64 darwin_amd64 darwin_arm64)

# Rewritten only when its content changes (a different mirror), so that
# it does not make Terraform initialise again.
$(TFRC): FORCE
	@mkdir -p $(@D)
	@{ if [ -n "$(TF_PLUGIN_MIRROR)" ]; then \
	    echo '# Written by infra/infra.mk: hashicorp/aws from the local mirror.'; \
	    echo 'provider_installation {'; \
	    echo '  filesystem_mirror {'; \
	    echo '    path    = "$(TF_PLUGIN_MIRROR)"'; \
	    echo '    include = ["registry.terraform.io/hashicorp/aws"]'; \
	    echo '  }'; \
	    echo '  direct {'; \
	    echo '    exclude = ["registry.terraform.io/hashicorp/aws"]'; \
	    echo '  }'; \
	    echo '}'; \
	  else \
	    echo '# Written by infra/infra.mk: no local mirror, providers come from the registry.'; \
	  fi; } > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(TFSEC):
	GOBIN=$(BIN) $(GO) install github.com/aquasecurity/tfsec/cmd/tfsec@$(TFSEC_VERSION)

.PHONY: tfsec
tfsec: $(TFSEC)

# Initialised once, and again when the providers or the lock file change.
TF_INIT_STAMP := $(TF_DIR)/.terraform/postmill-init.stamp
$(TF_INIT_STAMP): $(TFRC) $(TF_DIR)/.terraform.lock.hcl $(TF_DIR)/versions.tf
	$(TERRAFORM) init -input=false -lockfile=readonly -backend=false >/dev/null
	@touch $@

.PHONY: tf-init
tf-init: $(TF_INIT_STAMP)

.PHONY: tf-lock
tf-lock: $(TFRC) ## Refresh infra/.terraform.lock.hcl (TF_LOCK_PLATFORMS; from the mirror, or the registry with TF_PLUGIN_MIRROR=)
	$(TERRAFORM) providers lock $(if $(TF_PLUGIN_MIRROR),-fs-mirror=$(TF_PLUGIN_MIRROR)) $(TF_LOCK_PLATFORMS:%=-platform=%)

## ---- infrastructure ----------------------------------------------------

.PHONY: test-infra
test-infra: tf-init $(TFSEC) ## Terraform fmt/validate, tfsec, the CloudFront function's tests, apply+destroy on moto
	$(TERRAFORM) fmt -check -recursive
	$(TERRAFORM) validate -no-color
	$(TFSEC) $(TF_DIR) --minimum-severity HIGH --no-module-downloads --no-color --concise-output
	node --test --test-reporter=spec $(TF_DIR)/cloudfront/
	TERRAFORM="$(TERRAFORM)" $(TF_DIR)/scripts/emulator-apply-test.sh

# The local stack (make run) applies the same configuration to the emulator
# at AWS_ENDPOINT_URL, with its state in .run/ (which describes that
# emulator's memory: remove it when the emulator restarts). The zips come
# from `make build`, which make run has already done.
.PHONY: tf-apply-local
tf-apply-local: tf-init ## Apply the infrastructure to the emulator at AWS_ENDPOINT_URL (state in .run/)
	@test -n "$(AWS_ENDPOINT_URL)" || { echo "AWS_ENDPOINT_URL is not set (the emulator's URL, e.g. http://127.0.0.1:5000)"; exit 1; }
	@mkdir -p $(CURDIR)/.run
	$(TERRAFORM) apply -input=false -auto-approve -state=$(CURDIR)/.run/terraform.tfstate \
	  -var emulator=true -var aws_endpoint_url=$(AWS_ENDPOINT_URL) \
	  -var domain_name= -var route53_zone_id= -var alarm_email=

# A real account: credentials from the usual AWS environment or profile,
# settings from infra/terraform.tfvars if present (Terraform reads it
# itself), state in infra/terraform.tfstate. Terraform shows the plan and
# asks; AUTO_APPROVE=1 does not ask. An AWS_ENDPOINT_URL left over from
# the local stack must not send a real deployment to the emulator.
TF_APPROVE = $(if $(AUTO_APPROVE),-input=false -auto-approve)

.PHONY: deploy
deploy: build tf-init ## Deploy to the AWS account of the current credentials (settings: infra/terraform.tfvars)
	env -u AWS_ENDPOINT_URL $(TERRAFORM) apply $(TF_APPROVE)

.PHONY: destroy
destroy: tf-init ## Destroy everything deploy created (empty the source bucket first; the site bucket is emptied)
	env -u AWS_ENDPOINT_URL $(TERRAFORM) destroy $(TF_APPROVE)
