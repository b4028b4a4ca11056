#!/usr/bin/env bash
# Runs the whole Gatehouse test suite on a fresh machine: installs what the tests need
# (Go's modules; the AWS CLI that checks the simulator with a real third-party client;
# PostgreSQL, started as a private cluster, for the store and job tests; Chromium for the
# web UI tests), then vets and tests every package.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/test.sh: Go is not installed; install Go 1.26 (https://go.dev/dl/) and retry" >&2
  exit 1
fi

# What the tests need from Debian, installed when missing (on a root Debian machine), and
# otherwise a clear stop rather than a suite that passes without them:
# - the AWS CLI drives the simulator in TestAWSCLI, a third-party client checking that the
#   simulator answers like AWS (GATEHOUSE_AWS_CLI may name another binary); boto3 checks the
#   findings independently (python3-boto3);
# - PostgreSQL: every store and job test runs on SQLite and on PostgreSQL, and a test runs
#   two replicas on it; a private cluster is started below;
# - Chromium: the web UI tests drive it headless with chromedp (GATEHOUSE_CHROMIUM may name
#   another binary).
AWS_CLI="${GATEHOUSE_AWS_CLI:-/usr/bin/aws}"
CHROMIUM="${GATEHOUSE_CHROMIUM:-/usr/bin/chromium}"
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
missing=()
[ -x "$AWS_CLI" ] || missing+=(awscli)
# boto3: TestFindingsAgreeWithBoto3 computes the CIS findings a second time with it.
python3 -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
if [ -z "${GATEHOUSE_TEST_DATABASE_URL:-}" ] && [ ! -x "$(pg_bindir)/initdb" ]; then missing+=(postgresql); fi
[ -x "$CHROMIUM" ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: missing ${missing[*]} and this is not a root Debian machine:" >&2
    echo "  install them (apt-get install ${missing[*]}); or point GATEHOUSE_AWS_CLI, GATEHOUSE_CHROMIUM" >&2
    echo "  and GATEHOUSE_TEST_DATABASE_URL (a PostgreSQL server the tests may create databases in) at your own" >&2
    exit 1
  fi
  echo "--- installing ${missing[*]} (Debian packages)"
  if ! apt-get update -qq; then
    echo "scripts/test.sh: apt-get update failed; cannot install ${missing[*]}" >&2
    exit 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "scripts/test.sh: apt-get install ${missing[*]} failed; the suite needs them: awscli for TestAWSCLI, python3-boto3 for TestFindingsAgreeWithBoto3, postgresql for the store and job tests, chromium for the UI tests" >&2
    exit 1
  fi
  for pkg in "${missing[@]}"; do
    case "$pkg" in
      awscli) AWS_CLI=/usr/bin/aws; [ -x "$AWS_CLI" ] || { echo "scripts/test.sh: awscli was installed but $AWS_CLI is missing" >&2; exit 1; } ;;
      chromium) CHROMIUM=/usr/bin/chromium; [ -x "$CHROMIUM" ] || { echo "scripts/test.sh: chromium was installed but $CHROMIUM is missing" >&2; exit 1; } ;;
      python3-boto3) python3 -c 'import boto3' || { echo "scripts/test.sh: python3-boto3 was installed but python3 cannot import boto3" >&2; exit 1; } ;;
      postgresql) [ -x "$(pg_bindir)/initdb" ] || { echo "scripts/test.sh: postgresql was installed but initdb is missing under /usr/lib/postgresql" >&2; exit 1; } ;;
    esac
  done
fi
"$AWS_CLI" --version
"$CHROMIUM" --version
# The tests fail, never skip, when told that what they need is there.
export GATEHOUSE_AWS_CLI="$AWS_CLI" GATEHOUSE_REQUIRE_AWS_CLI=1
export GATEHOUSE_CHROMIUM="$CHROMIUM" GATEHOUSE_REQUIRE_CHROMIUM=1

# A private PostgreSQL cluster on a free loopback port, in a temporary directory removed
# on exit; each test creates its own database in it. GATEHOUSE_TEST_DATABASE_URL, when
# set, names an existing server instead.
if [ -z "${GATEHOUSE_TEST_DATABASE_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/gatehouse-test-pg.XXXXXX)
  trap 'scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  # Ports below Linux's ephemeral range (32768-60999), so that no client connection's local
  # port takes ours; a port that still cannot be bound is skipped for the next one.
  GATEHOUSE_TEST_DATABASE_URL=""
  for p in $(seq 25440 25499); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    echo "--- starting PostgreSQL on 127.0.0.1:$p"
    if GATEHOUSE_TEST_DATABASE_URL=$(scripts/postgres.sh start "$pgdir" "$p"); then break; fi
    GATEHOUSE_TEST_DATABASE_URL=""
    echo "--- 127.0.0.1:$p cannot be used; trying the next port"
  done
  if [ -z "$GATEHOUSE_TEST_DATABASE_URL" ]; then
    echo "scripts/test.sh: could not start the test PostgreSQL on any loopback port in 25440-25499 (see the messages above)" >&2
    exit 1
  fi
  export GATEHOUSE_TEST_DATABASE_URL
fi
export GATEHOUSE_REQUIRE_POSTGRES=1

echo "--- go mod download"
go mod download
echo "--- go vet"
go vet ./...
echo "--- go test"
go test -count=1 -timeout 30m ./...
