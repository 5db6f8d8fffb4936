//! Load and soak, end to end: each example binary (release build, found next to this
//! program) in front of an OIDC issuer on 127.0.0.1 takes a bounded mixed load (valid,
//! missing-scope, expired, forged, wrong-audience and missing tokens, across several
//! routes) at several connection counts, in several rounds. Every answer is compared with
//! the decision the route contract requires.
//!
//! Prints requests per second, wrong decisions, 5xx answers and the example's resident
//! memory before and after each phase; exits 1 on any wrong decision, 5xx or failed
//! request, or if resident memory grows by more than `RSS_SLACK_KIB` (default 2 048)
//! between the end of the first round and the end of the last. `REQUESTS` (default
//! 500 000 per round and example), `ROUNDS` (default 3) and `POOL` (distinct valid tokens,
//! default 12 000: more than the verified-token cache holds) scale it. Run it with
//! `scripts/load-soak.sh`.
#![allow(clippy::print_stdout, reason = "a report printed for people")]

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use scopegate_core::test_util::TestIssuer;
use scopegate_tests::example_binary::{AUDIENCE, ExampleServer, next_to_current_exe};
use scopegate_tests::{Idp, Metadata};

/// Connection counts, and each phase's share of the requests.
const PHASES: [(usize, usize); 3] = [(1, 2), (16, 4), (64, 4)];

/// One kind of request and the status the route contract requires for it.
struct Case {
    name: &'static str,
    path: &'static str,
    tokens: Vec<String>,
    expected: u16,
}

/// The request mix, cycled through in order: valid tokens dominate, as in production.
struct Mix {
    cases: Vec<Case>,
    /// Which case each position of the cycle sends.
    cycle: Vec<usize>,
}

impl Mix {
    fn new(signer: &TestIssuer, pool: usize) -> Self {
        let stranger = TestIssuer::new()
            .with_kid(signer.kid())
            .with_issuer(signer.issuer())
            .with_audience(AUDIENCE);
        let many = |count: usize, make: &(dyn Fn() -> String + Sync)| -> Vec<String> {
            // Signing is the slow part; use both cores.
            let half = count / 2;
            std::thread::scope(|scope| {
                let other = scope.spawn(|| (0..half).map(|_| make()).collect::<Vec<_>>());
                let mut mine: Vec<String> = (half..count).map(|_| make()).collect();
                mine.extend(other.join().expect("signing thread"));
                mine
            })
        };
        let cases = vec![
            Case {
                name: "valid, read:orders",
                path: "/api/orders",
                tokens: many(pool, &|| signer.token().scope("read:orders").sign()),
                expected: 200,
            },
            Case {
                name: "valid, any route",
                path: "/api/private",
                tokens: many(100, &|| signer.token().sign()),
                expected: 200,
            },
            Case {
                name: "valid, both scopes",
                path: "/api/reports",
                tokens: many(100, &|| {
                    signer.token().scope("read:orders read:analytics").sign()
                }),
                expected: 200,
            },
            Case {
                name: "missing scope",
                path: "/api/orders",
                tokens: many(100, &|| signer.token().scope("read:products").sign()),
                expected: 403,
            },
            Case {
                name: "one of two scopes",
                path: "/api/reports",
                tokens: many(100, &|| signer.token().scope("read:orders").sign()),
                expected: 403,
            },
            Case {
                name: "expired",
                path: "/api/orders",
                tokens: many(100, &|| {
                    signer.token().scope("read:orders").expired().sign()
                }),
                expected: 401,
            },
            Case {
                name: "forged (other key, same kid)",
                path: "/api/orders",
                tokens: many(100, &|| stranger.token().scope("read:orders").sign()),
                expected: 401,
            },
            Case {
                name: "wrong audience",
                path: "/api/orders",
                tokens: many(100, &|| {
                    signer
                        .token()
                        .audience("https://other.example/api")
                        .scope("read:orders")
                        .sign()
                }),
                expected: 401,
            },
            Case {
                name: "no token",
                path: "/api/private",
                tokens: Vec::new(),
                expected: 401,
            },
            Case {
                name: "no token, public route",
                path: "/api/public",
                tokens: Vec::new(),
                expected: 200,
            },
        ];
        // Thirteen positions: four valid read:orders, then every other case once.
        let cycle = vec![0, 1, 0, 2, 0, 3, 0, 4, 5, 6, 7, 8, 9];
        Self { cases, cycle }
    }

    /// The case and token (if any) of request number `i`.
    fn request(&self, i: usize) -> (&Case, Option<&str>) {
        let case = &self.cases[self.cycle[i % self.cycle.len()]];
        let round = i / self.cycle.len();
        let token =
            (!case.tokens.is_empty()).then(|| case.tokens[round % case.tokens.len()].as_str());
        (case, token)
    }
}

/// What one phase saw.
#[derive(Debug, Default)]
struct Tally {
    requests: AtomicUsize,
    wrong: AtomicUsize,
    server_errors: AtomicUsize,
    failed: AtomicUsize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let total: usize = number("REQUESTS", 500_000);
    let pool: usize = number("POOL", 12_000);
    let rounds: usize = number("ROUNDS", 3).max(1);
    let slack_kib = number("RSS_SLACK_KIB", 2048) as u64;
    let placeholder = TestIssuer::new();
    let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
    let signer = placeholder
        .with_issuer(idp.issuer())
        .with_audience(AUDIENCE);
    let started = Instant::now();
    let mix = Mix::new(&signer, pool);
    println!(
        "minted {} tokens in {:.1} s",
        mix.cases.iter().map(|c| c.tokens.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );

    let mut clean = true;
    for binary in ["example-axum-products", "example-actix-products"] {
        let path = next_to_current_exe(binary);
        let mut server = ExampleServer::start(&path.to_string_lossy(), &idp.issuer(), &[]).await;
        println!("## {binary}: {rounds} rounds of {total} requests");
        // Warm-up: one request of each case, so the key fetch is behind us.
        let warm = Tally::default();
        run(&server, &mix, 0..mix.cycle.len(), 1, &warm).await;
        let mut rss = rss_kib(&server);
        println!("RSS after warm-up: {}", mib(rss));
        let shares: usize = PHASES.iter().map(|(_, share)| share).sum();
        let mut first = 0;
        let mut after_first_round = 0;
        for round in 1..=rounds {
            println!("round {round} of {rounds}");
            for (connections, share) in PHASES {
                let count = total * share / shares;
                let tally = Tally::default();
                let phase_started = Instant::now();
                run(&server, &mix, first..first + count, connections, &tally).await;
                first += count;
                let secs = phase_started.elapsed().as_secs_f64();
                let before = rss;
                rss = rss_kib(&server);
                let requests = tally.requests.load(Ordering::Relaxed);
                let wrong = tally.wrong.load(Ordering::Relaxed);
                let server_errors = tally.server_errors.load(Ordering::Relaxed);
                let failed = tally.failed.load(Ordering::Relaxed);
                println!(
                    "{connections:>3} connections: {requests} requests in {secs:.1} s ({:.0}/s), \
                     {wrong} wrong decisions, {server_errors} 5xx, {failed} failed; RSS {} -> {}",
                    requests as f64 / secs,
                    mib(before),
                    mib(rss),
                );
                clean &= requests == count && wrong == 0 && server_errors == 0 && failed == 0;
            }
            if round == 1 {
                after_first_round = rss;
            }
        }
        // Once the caches and connection buffers are full, later rounds must not grow.
        let growth = rss.saturating_sub(after_first_round);
        let stable = rss > 0 && growth <= slack_kib;
        println!(
            "RSS after round 1: {}, after round {rounds}: {} ({}, limit {})",
            mib(after_first_round),
            mib(rss),
            if stable { "stable" } else { "GREW" },
            mib(slack_kib),
        );
        clean &= stable;
        clean &= warm.wrong.load(Ordering::Relaxed) == 0;
        clean &= server.is_running();
        server.stop().await;
    }
    println!(
        "JWKS fetches during all of it: {} (both examples)",
        idp.jwks_hits()
    );
    if clean {
        println!("every decision as expected");
        ExitCode::SUCCESS
    } else {
        println!("FAILED: see the lines above");
        ExitCode::FAILURE
    }
}

/// Sends requests number `range` over `connections` concurrent connections.
async fn run(
    server: &ExampleServer,
    mix: &Mix,
    range: std::ops::Range<usize>,
    connections: usize,
    tally: &Tally,
) {
    let next = AtomicUsize::new(range.start);
    let worker = async || {
        // One client per worker: one keep-alive connection each.
        let client = reqwest::Client::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= range.end {
                return;
            }
            let (case, token) = mix.request(i);
            let mut request = client.get(format!("{}{}", server.base(), case.path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            tally.requests.fetch_add(1, Ordering::Relaxed);
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if status >= 500 {
                        tally.server_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    // The first few wrong decisions are shown.
                    if status != case.expected && tally.wrong.fetch_add(1, Ordering::Relaxed) < 5 {
                        println!(
                            "wrong: {} got {status}, expected {}",
                            case.name, case.expected
                        );
                    }
                    // Read the body so the connection is reused.
                    let _ = response.bytes().await;
                }
                Err(_) => {
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    futures_util::future::join_all((0..connections).map(|_| worker())).await;
}

/// The example's resident memory in KiB, 0 if it cannot be read.
fn rss_kib(server: &ExampleServer) -> u64 {
    server.rss_kib().unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
