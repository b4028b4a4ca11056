#!/usr/bin/env bash
# Runs the whole Gatehouse test suite on a fresh machine: installs what the tests need
# (Go's modules, and the AWS CLI that checks the simulator with a real third-party client),
# then vets and tests every package.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/test.sh: Go is not installed; install Go 1.26 (https://go.dev/dl/) and retry" >&2
  exit 1
fi

# The Debian AWS CLI (v2) drives the simulator in TestAWSCLI; install it when missing.
if [ ! -x /usr/bin/aws ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "--- installing the AWS CLI (Debian package awscli)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; }; then
      echo "scripts/test.sh: WARNING: could not install awscli from Debian; TestAWSCLI will be skipped" >&2
    fi
  else
    echo "scripts/test.sh: /usr/bin/aws is missing and this is not a root Debian machine; TestAWSCLI will be skipped" >&2
  fi
fi
if [ -x /usr/bin/aws ]; then
  export GATEHOUSE_AWS_CLI=/usr/bin/aws
fi

echo "--- go mod download"
go mod download
echo "--- go vet"
go vet ./...
echo "--- go test"
go test -count=1 -timeout 30m ./...
