#!/usr/bin/env bash
# Load and soak end to end: builds the example binaries and the harness in release mode,
# then sends each example ROUNDS (default 3) rounds of REQUESTS (default 500 000) mixed
# requests at 1, 16 and 64 connections from 127.0.0.1, checking every decision and
# recording resident memory. Exits 1 on any wrong decision, 5xx or failed request, or on
# memory growth after the first round. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins -p scopegate-tests -p example-axum-products -p example-actix-products
exec target/release/load-soak
