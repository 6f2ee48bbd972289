#!/usr/bin/env bash
# Applies infra/ to a fresh moto server with emulator=true, checks that
# what the local stack relies on is there and wired, then destroys it.
#
# Run by `make test-infra`, which passes TERRAFORM (terraform with the
# repository's CLI configuration, -chdir=infra, after `terraform init`).
# State lives in a temporary directory; nothing in infra/ is touched.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
TERRAFORM=${TERRAFORM:-terraform -chdir=$root/infra}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postmill-emulator.XXXXXX")
moto_pid=
cleanup() {
  status=$?
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  if [ $status -ne 0 ] && [ -f "$tmp/moto.log" ]; then
    echo "--- last lines of the moto log:" >&2
    tail -n 20 "$tmp/moto.log" >&2
  fi
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT

step() { printf '== %s (%ss)\n' "$*" "$SECONDS"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=$endpoint
unset AWS_PROFILE AWS_SESSION_TOKEN

step "moto on $endpoint"
moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "$endpoint/moto-api/" && break
  kill -0 "$moto_pid" 2>/dev/null || fail "moto_server exited"
  sleep 0.1
done
curl -fs -o /dev/null "$endpoint/moto-api/" || fail "moto_server did not answer on $endpoint"

# The real zips if `make build` made them; any zip will do for the emulator.
printf '#!/bin/sh\n' >"$tmp/bootstrap"
(cd "$tmp" && zip -q -X placeholder.zip bootstrap)
zips=()
for fn in render rebuild; do
  zip=$root/dist/$fn.zip
  [ -f "$zip" ] || zip=$tmp/placeholder.zip
  zips+=(-var "${fn}_zip=$zip")
done

# The same variables make tf-apply-local uses; a real domain or alarm
# address from infra/terraform.tfvars must not reach the emulator.
tfvars=(
  -var emulator=true -var "aws_endpoint_url=$endpoint" "${zips[@]}"
  -var domain_name= -var route53_zone_id= -var alarm_email= -var bucket_suffix=
)
state=(-state="$tmp/terraform.tfstate")

step "terraform apply"
$TERRAFORM apply -input=false -auto-approve -no-color "${state[@]}" "${tfvars[@]}" >"$tmp/apply.log" 2>&1 ||
  { tail -n 40 "$tmp/apply.log" >&2; fail "terraform apply"; }

step "checks"
$TERRAFORM output -no-color -json "${state[@]}" >"$tmp/outputs.json"
python3 "$root/infra/scripts/emulator-checks.py" <"$tmp/outputs.json" || fail "emulator checks"
source_bucket=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["source_bucket"]["value"])' <"$tmp/outputs.json")

step "terraform destroy"
# The state is minutes old and nothing else touched the emulator.
$TERRAFORM destroy -input=false -auto-approve -no-color -refresh=false "${state[@]}" "${tfvars[@]}" >"$tmp/destroy.log" 2>&1 ||
  { tail -n 40 "$tmp/destroy.log" >&2; fail "terraform destroy"; }
if aws --endpoint-url "$endpoint" s3api head-bucket --bucket "$source_bucket" >/dev/null 2>&1; then
  fail "source bucket $source_bucket left after destroy"
fi

step "emulator apply and destroy passed"
