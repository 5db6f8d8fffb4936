//! Issuer faults, end to end: each example binary (release build, found next to this
//! program) runs in front of a controllable OIDC issuer on 127.0.0.1, which then goes
//! down, slows, fails, answers garbage or a huge body, redirects to another host,
//! rotates or removes keys, or meets a flood of random key ids.
//!
//! Prints what each example answered, with timings and key-fetch counts, and exits 1 if
//! any decision differs from the expected one. Run it with `scripts/issuer-faults.sh`.
#![allow(clippy::print_stdout, reason = "a report printed for people")]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use scopegate_core::test_util::TestIssuer;
use scopegate_tests::example_binary::{AUDIENCE, ExampleServer, next_to_current_exe};
use scopegate_tests::{FALLBACK_JWKS_PATH, Idp, Metadata, Mode};
use serde_json::json;

/// The longest any wait in a scenario may take before it counts as a failure.
const PATIENCE: Duration = Duration::from_secs(90);

#[tokio::main]
async fn main() -> ExitCode {
    let mut report = Report::default();
    for (name, binary) in [
        ("axum", "example-axum-products"),
        ("actix", "example-actix-products"),
    ] {
        let binary = next_to_current_exe(binary);
        println!("## {name} ({})", binary.display());
        let binary = binary.to_string_lossy().into_owned();
        down_after_warm_up(&binary, &mut report).await;
        down_from_start(&binary, &mut report).await;
        slow(&binary, &mut report).await;
        slower_than_the_timeout(&binary, &mut report).await;
        failing(&binary, &mut report).await;
        garbage_and_huge_bodies(&binary, &mut report).await;
        large_jwks(&binary, &mut report).await;
        redirect_to_another_host(&binary, &mut report).await;
        rotation(&binary, &mut report).await;
        key_removal(&binary, &mut report).await;
        random_kid_flood(&binary, &mut report).await;
    }
    if report.failures.is_empty() {
        println!("\nevery decision as expected");
        ExitCode::SUCCESS
    } else {
        println!("\n{} unexpected decision(s):", report.failures.len());
        for failure in &report.failures {
            println!("- {failure}");
        }
        ExitCode::FAILURE
    }
}

/// What went against expectations.
#[derive(Debug, Default)]
struct Report {
    failures: Vec<String>,
}

impl Report {
    fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }
}

/// One example binary in front of one issuer, and the issuer's current signing key.
struct Rig {
    idp: Idp,
    signer: TestIssuer,
    server: ExampleServer,
    client: reqwest::Client,
}

/// What a request to `/api/orders` got.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    took: Duration,
}

impl Rig {
    /// Starts an issuer with one key, lets `before_start` break it, then starts the
    /// example in front of it.
    async fn start(binary: &str, before_start: impl AsyncFnOnce(&Idp)) -> Self {
        let placeholder = TestIssuer::new().with_kid("key-1");
        let idp = Idp::start(placeholder.jwks(), Metadata::Oidc).await;
        let signer = placeholder
            .with_issuer(idp.issuer())
            .with_audience(AUDIENCE);
        before_start(&idp).await;
        let server = ExampleServer::start(binary, &idp.issuer(), &[]).await;
        Self {
            idp,
            signer,
            server,
            client: reqwest::Client::new(),
        }
    }

    /// A new key for the same issuer, under `kid`.
    fn new_key(&self, kid: &str) -> TestIssuer {
        TestIssuer::new()
            .with_kid(kid)
            .with_issuer(self.idp.issuer())
            .with_audience(AUDIENCE)
    }

    /// A fresh `read:orders` token from `key` (fresh, so no cached verification helps).
    fn token(key: &TestIssuer) -> String {
        key.token().scope("read:orders").sign()
    }

    async fn orders(&self, token: &str) -> Answer {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}/api/orders", self.server.base()))
            .bearer_auth(token)
            .send()
            .await
            .expect("the example answers");
        Answer {
            status: response.status().as_u16(),
            retry_after: response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            took: started.elapsed(),
        }
    }

    /// Requests with fresh tokens from `key` until one gets `status`; how long that took.
    async fn until(&self, key: &TestIssuer, status: u16, every: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if self.orders(&Self::token(key)).await.status == status {
                return Some(started.elapsed());
            }
            tokio::time::sleep(every).await;
        }
        None
    }

    /// Serves exactly `keys` from now on.
    fn publish(&self, keys: &[&TestIssuer]) {
        let keys: Vec<_> = keys
            .iter()
            .filter_map(|k| k.public_jwk().cloned())
            .collect();
        self.idp.set_jwks(json!({ "keys": keys }));
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The p50 and maximum of some latencies.
fn spread(mut took: Vec<Duration>) -> String {
    took.sort();
    match (took.get(took.len() / 2), took.last()) {
        (Some(p50), Some(max)) => format!("p50 {}, max {}", ms(*p50), ms(*max)),
        _ => "no samples".into(),
    }
}

async fn down_after_warm_up(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |_| {}).await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    rig.idp.stop().await;
    let mut statuses = Vec::new();
    let mut took = Vec::new();
    for _ in 0..50 {
        let answer = rig.orders(&Rig::token(&rig.signer)).await;
        statuses.push(answer.status);
        took.push(answer.took);
    }
    let accepted = statuses.iter().filter(|&&s| s == 200).count();
    let rotated = rig.new_key("key-2");
    let unknown = rig.orders(&Rig::token(&rotated)).await;
    println!(
        "- issuer down after warm-up: warm-up {}; 50 fresh tokens under the cached key: {accepted} × 200 ({}); \
         a token under a new kid: {} in {}",
        warm.status,
        spread(took),
        unknown.status,
        ms(unknown.took)
    );
    report.expect(warm.status == 200 && accepted == 50, || {
        format!("down after warm-up: cached key not served: {statuses:?}")
    });
    report.expect(unknown.status == 401, || {
        format!("down after warm-up: new kid got {}", unknown.status)
    });

    rig.publish(&[&rig.signer, &rotated]);
    rig.idp.resume().await;
    let back = rig.until(&rotated, 200, Duration::from_millis(250)).await;
    println!(
        "- issuer back with a rotated key: new kid accepted after {}",
        back.map_or("never".into(), secs)
    );
    report.expect(back.is_some(), || {
        "down after warm-up: rotated key never accepted".into()
    });
    rig.server.stop().await;
}

async fn down_from_start(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |idp| idp.stop().await).await;
    let answer = rig.orders(&Rig::token(&rig.signer)).await;
    println!(
        "- issuer down from start: {} with Retry-After {:?} in {}",
        answer.status,
        answer.retry_after,
        ms(answer.took)
    );
    report.expect(answer.status == 503 && answer.retry_after.is_some(), || {
        format!("down from start: got {answer:?}")
    });
    rig.idp.resume().await;
    let back = rig
        .until(&rig.signer, 200, Duration::from_millis(100))
        .await;
    println!(
        "- issuer up again: first 200 after {}",
        back.map_or("never".into(), secs)
    );
    report.expect(back.is_some(), || "down from start: never recovered".into());
    rig.server.stop().await;
}

async fn slow(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |_| {}).await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    let rotated = rig.new_key("key-2");
    rig.publish(&[&rig.signer, &rotated]);
    rig.idp.set_mode(Mode::Slow(Duration::from_secs(2)));
    let waiting = {
        let token = Rig::token(&rotated);
        let client = rig.client.clone();
        let url = format!("{}/api/orders", rig.server.base());
        tokio::spawn(async move {
            let started = Instant::now();
            let status = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16());
            (status, started.elapsed())
        })
    };
    // While the slow fetch for the new kid is in flight, tokens under the cached key.
    let mut took = Vec::new();
    let mut statuses = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        let answer = rig.orders(&Rig::token(&rig.signer)).await;
        statuses.push(answer.status);
        took.push(answer.took);
    }
    let (status, waited) = waiting.await.expect("the waiting request");
    println!(
        "- issuer slow (2 s per JWKS): new kid {status:?} after {}; meanwhile {} cached-key requests: {}",
        secs(waited),
        took.len(),
        spread(took)
    );
    report.expect(
        warm.status == 200 && statuses.iter().all(|&s| s == 200),
        || format!("slow: cached-key requests failed: {statuses:?}"),
    );
    report.expect(matches!(status, Ok(200)), || {
        format!("slow: new kid got {status:?}")
    });
    rig.server.stop().await;
}

async fn slower_than_the_timeout(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |idp| {
        idp.set_mode(Mode::Slow(Duration::from_secs(20)));
    })
    .await;
    // The example's startup fetch has timed out already: the first request meets the
    // backoff; once it has passed (1 s), a request waits for a fetch of its own.
    let first = rig.orders(&Rig::token(&rig.signer)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = rig.orders(&Rig::token(&rig.signer)).await;
    println!(
        "- issuer slower than the 5 s fetch timeout, from start: {} (Retry-After {:?}) in {}; \
         after the backoff, {} in {}",
        first.status,
        first.retry_after,
        ms(first.took),
        waiting.status,
        secs(waiting.took)
    );
    report.expect(
        first.status == 503 && waiting.status == 503 && waiting.took < PATIENCE,
        || format!("slower than the timeout: got {first:?} {waiting:?}"),
    );
    rig.server.stop().await;
}

async fn failing(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |idp| idp.set_mode(Mode::Status(500))).await;
    let cold = rig.orders(&Rig::token(&rig.signer)).await;
    rig.server.stop().await;

    let rig = Rig::start(binary, async |_| {}).await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    rig.idp.set_mode(Mode::Status(500));
    let cached = rig.orders(&Rig::token(&rig.signer)).await;
    let unknown = rig.orders(&Rig::token(&rig.new_key("key-2"))).await;
    println!(
        "- issuer answering 500: from start {}; after warm-up cached key {}, new kid {}",
        cold.status, cached.status, unknown.status
    );
    report.expect(cold.status == 503, || format!("500 from start: {cold:?}"));
    report.expect(
        warm.status == 200 && cached.status == 200 && unknown.status == 401,
        || format!("500 after warm-up: {warm:?} {cached:?} {unknown:?}"),
    );
    rig.server.stop().await;
}

async fn garbage_and_huge_bodies(binary: &str, report: &mut Report) {
    for (what, mode) in [
        ("garbage (HTML)", Mode::Garbage),
        ("a 50 MB body", Mode::Huge(50 * 1024 * 1024)),
    ] {
        let rig = Rig::start(binary, async |idp| idp.set_mode(mode)).await;
        let answer = rig.orders(&Rig::token(&rig.signer)).await;
        let rss = rig.server.rss_kib();
        println!(
            "- issuer serving {what} from start: {} in {}; example RSS {} KiB",
            answer.status,
            ms(answer.took),
            rss.map_or("?".into(), |k| k.to_string())
        );
        report.expect(answer.status == 503, || format!("{what}: {answer:?}"));
        rig.server.stop().await;
    }
}

async fn large_jwks(binary: &str, report: &mut Report) {
    // scopegate reads at most 100 keys from a JWKS; a larger one is refused whole and the
    // keys in hand stay in use.
    for (keys, expected) in [(100, 200), (2000, 401)] {
        let rig = Rig::start(binary, async |_| {}).await;
        let warm = rig.orders(&Rig::token(&rig.signer)).await;
        let rotated = rig.new_key("key-2");
        let filler = rotated.public_jwk().cloned().unwrap_or_default();
        // Filler keys, then the key in use and the new one: `keys` keys in all.
        let mut jwks: Vec<_> = (2..keys)
            .map(|i| {
                let mut jwk = filler.clone();
                jwk["kid"] = json!(format!("filler-{i}"));
                jwk
            })
            .collect();
        jwks.extend(rig.signer.public_jwk().cloned());
        jwks.extend(rotated.public_jwk().cloned());
        let jwks = json!({ "keys": jwks });
        let bytes = jwks.to_string().len();
        rig.idp.set_jwks(jwks);
        let first = rig.orders(&Rig::token(&rotated)).await;
        let old = rig.orders(&Rig::token(&rig.signer)).await;
        println!(
            "- issuer publishing {keys} keys ({:.2} MB): first token under the last one {} in {} \
             (fetch and parse); old key {}",
            bytes as f64 / 1e6,
            first.status,
            ms(first.took),
            old.status
        );
        report.expect(
            warm.status == 200 && first.status == expected && old.status == 200,
            || format!("{keys}-key JWKS: {first:?} {old:?}"),
        );
        rig.server.stop().await;
    }
}

async fn redirect_to_another_host(binary: &str, report: &mut Report) {
    // The other host serves keys of its own and tokens signed with them.
    let attacker = TestIssuer::new().with_kid("key-1");
    let other = Idp::start(attacker.jwks(), Metadata::None).await;
    let target = other.url(FALLBACK_JWKS_PATH);
    let rig = Rig::start(binary, async |idp| idp.set_mode(Mode::Redirect(target))).await;
    let attacker = attacker
        .with_issuer(rig.idp.issuer())
        .with_audience(AUDIENCE);
    let answer = rig.orders(&Rig::token(&attacker)).await;
    println!(
        "- issuer redirecting its JWKS to another host: {}; requests reaching the other host: {}",
        answer.status,
        other.jwks_hits()
    );
    report.expect(answer.status == 503 && other.jwks_hits() == 0, || {
        format!(
            "redirect: {answer:?}, other host hit {} times",
            other.jwks_hits()
        )
    });
    rig.server.stop().await;
}

async fn rotation(binary: &str, report: &mut Report) {
    let rig = Rig::start(binary, async |_| {}).await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    let rotated = rig.new_key("key-2");
    rig.publish(&[&rig.signer, &rotated]);
    let fetches = rig.idp.jwks_hits();
    let first = rig.orders(&Rig::token(&rotated)).await;
    let again = rig.orders(&Rig::token(&rotated)).await;
    let old = rig.orders(&Rig::token(&rig.signer)).await;
    let fetched = rig.idp.jwks_hits() - fetches;
    println!(
        "- rotation (new key published, first token under it): {} in {} with {fetched} JWKS fetch(es); next {}; old key {}",
        first.status,
        ms(first.took),
        again.status,
        old.status
    );
    report.expect(
        warm.status == 200
            && first.status == 200
            && again.status == 200
            && old.status == 200
            && fetched == 1,
        || format!("rotation: {first:?} {again:?} {old:?}, {fetched} fetches"),
    );
    rig.server.stop().await;
}

async fn key_removal(binary: &str, report: &mut Report) {
    // The shortest freshness scopegate honours is 60 s (smaller max-age values are raised).
    let rig = Rig::start(binary, async |idp| {
        idp.set_cache_control("max-age=60");
    })
    .await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    let removed_at = Instant::now();
    let replacement = rig.new_key("key-2");
    rig.publish(&[&replacement]);
    let rejected = rig
        .until(&rig.signer, 401, Duration::from_millis(500))
        .await;
    let new_key = rig.orders(&Rig::token(&replacement)).await;
    println!(
        "- key removed from the JWKS (Cache-Control: max-age=60): old key rejected after {}; new key {}",
        rejected.map_or("never".into(), |_| secs(removed_at.elapsed())),
        new_key.status
    );
    report.expect(warm.status == 200 && rejected.is_some(), || {
        "key removal: removed key still accepted".into()
    });
    report.expect(new_key.status == 200, || {
        format!("key removal: new key {new_key:?}")
    });
    rig.server.stop().await;
}

async fn random_kid_flood(binary: &str, report: &mut Report) {
    const FLOOD: usize = 2000;
    let rig = Rig::start(binary, async |_| {}).await;
    let warm = rig.orders(&Rig::token(&rig.signer)).await;
    let tokens: Vec<String> = (0..FLOOD)
        .map(|i| {
            rig.signer
                .token()
                .scope("read:orders")
                .header("kid", format!("random-{i}-{}", i * 7919 % 1009))
                .sign()
        })
        .collect();
    let legit: Vec<String> = (0..200).map(|_| Rig::token(&rig.signer)).collect();
    for round in 1..=2 {
        let fetches = rig.idp.jwks_hits();
        let started = Instant::now();
        let flood = flood(&rig, &tokens, 32);
        let during = async {
            let mut took = Vec::new();
            let mut statuses = Vec::new();
            for token in &legit {
                let answer = rig.orders(token).await;
                statuses.push(answer.status);
                took.push(answer.took);
            }
            (statuses, took)
        };
        let (flood_statuses, (statuses, took)) = tokio::join!(flood, during);
        let fetched = rig.idp.jwks_hits() - fetches;
        let rejected = flood_statuses.iter().filter(|&&s| s == 401).count();
        println!(
            "- random-kid flood, round {round}: {FLOOD} tokens with unknown kids in {} ({rejected} × 401), \
             {fetched} JWKS fetch(es); 200 legitimate requests meanwhile: {}",
            secs(started.elapsed()),
            spread(took)
        );
        report.expect(
            warm.status == 200 && rejected == FLOOD && fetched <= 1,
            || format!("flood round {round}: {rejected} rejected, {fetched} fetches"),
        );
        report.expect(statuses.iter().all(|&s| s == 200), || {
            format!("flood round {round}: legitimate requests got {statuses:?}")
        });
    }
    rig.server.stop().await;
}

/// Sends every token with `concurrency` requests in flight; the statuses.
async fn flood(rig: &Rig, tokens: &[String], concurrency: usize) -> Vec<u16> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = async || {
        let mut statuses = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(token) = tokens.get(i) else {
                return statuses;
            };
            statuses.push(rig.orders(token).await.status);
        }
    };
    let workers: Vec<_> = (0..concurrency).map(|_| worker()).collect();
    let mut all = Vec::new();
    for statuses in futures_util::future::join_all(workers).await {
        all.extend(statuses);
    }
    all
}
