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

# The AWS CLI drives the simulator in TestAWSCLI, a third-party client checking that the
# simulator answers like AWS. The suite needs it: install it (Debian package awscli) when
# missing, and stop here if that is not possible, rather than pass without the check.
# GATEHOUSE_AWS_CLI may name another AWS CLI binary.
AWS_CLI="${GATEHOUSE_AWS_CLI:-/usr/bin/aws}"
if [ ! -x "$AWS_CLI" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: the AWS CLI ($AWS_CLI) is missing and this is not a root Debian machine:" >&2
    echo "  install it (apt-get install awscli, or AWS's installer) and set GATEHOUSE_AWS_CLI to it" >&2
    exit 1
  fi
  echo "--- installing the AWS CLI (Debian package awscli)"
  if ! apt-get update -qq; then
    echo "scripts/test.sh: apt-get update failed; the AWS CLI cannot be installed" >&2
    exit 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; then
    echo "scripts/test.sh: apt-get install awscli failed; the AWS CLI is required by TestAWSCLI" >&2
    exit 1
  fi
  AWS_CLI=/usr/bin/aws
  if [ ! -x "$AWS_CLI" ]; then
    echo "scripts/test.sh: awscli was installed but $AWS_CLI is missing" >&2
    exit 1
  fi
fi
"$AWS_CLI" --version
# TestAWSCLI fails, never skips, when it is told the CLI is required.
export GATEHOUSE_AWS_CLI="$AWS_CLI" GATEHOUSE_REQUIRE_AWS_CLI=1

echo "--- go mod download"
go mod download
echo "--- go vet"
go vet ./...
echo "--- go test"
go test -count=1 -timeout 30m ./...
