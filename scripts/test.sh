#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds once, runs the Swift tests (unit tests and
# S3 client tests against moto servers they start themselves), a short fuzzing pass, then the
# end-to-end tests that drive the built `lifeboat` binary and check what landed with boto3.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test

# Tools on these machines point AWS_CA_BUNDLE and friends at a bundle; the tests talk plain HTTP
# to local servers and must not depend on it.
unset AWS_CA_BUNDLE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE

swift build --build-tests
swift test --skip-build
# A short, deterministic libFuzzer pass over the parsers of untrusted input (fuzz/run.sh).
FUZZ_RUNS="${FUZZ_RUNS:-20000}" fuzz/run.sh
python3 -m pytest Tests/e2e -q -p no:cacheprovider
