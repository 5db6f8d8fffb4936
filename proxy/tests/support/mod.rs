//! What the proxy's end-to-end tests share: the built binary, started on a free port
//! with a configuration written to a temporary directory, and, for the tests that need
//! an issuer, the dev issuer with a `[server]` section and one public route.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use scopegate_dev_issuer::{DevIssuer, Tenant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

/// The audience of the built-in tenant's retail API.
pub(crate) const RETAIL: &str = "https://retail.example/api";

/// How long the binary may take to start listening.
const START: Duration = Duration::from_secs(20);

/// The `scopegate-proxy` binary, running; killed and its directory removed on drop.
pub(crate) struct ProxyBinary {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The process (to signal or wait for).
    pub(crate) child: Child,
    /// Kept running for as long as the binary needs it.
    issuer: Option<DevIssuer>,
    dir: PathBuf,
}

impl Drop for ProxyBinary {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl ProxyBinary {
    /// Starts the binary with `config` (a `listen` on a free port is put first) and
    /// `RUST_LOG=log`, and waits until it listens; its output is drained from then on
    /// so it never blocks on a full pipe.
    pub(crate) async fn start(config: &str, log: &str) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "scopegate-proxy-test-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("proxy.toml");
        std::fs::write(&path, format!("listen = \"127.0.0.1:0\"\n{config}")).expect("config");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate-proxy"))
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", log)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let listening = async {
            while let Some(line) = lines.next_line().await.expect("line") {
                if let Some(url) = line.strip_prefix("scopegate-proxy listening on http://") {
                    return url.parse::<SocketAddr>().expect("address");
                }
            }
            panic!("the proxy exited before listening");
        };
        let addr = tokio::time::timeout(START, listening)
            .await
            .expect("the proxy starts");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            addr,
            child,
            issuer: None,
            dir,
        }
    }

    /// The binary in front of `upstream` with one public route `/`, the dev issuer's
    /// tokens accepted, and `server` as its `[server]` section.
    pub(crate) async fn public_route(upstream: SocketAddr, server: &str) -> Self {
        let issuer = DevIssuer::start(Tenant::built_in())
            .await
            .expect("dev issuer");
        let config = format!(
            r#"
            [issuer]
            url = "{issuer}"
            audience = "{RETAIL}"
            [server]
            {server}
            [[route]]
            prefix = "/"
            upstream = "http://{upstream}"
            public = true
            "#,
            issuer = issuer.issuer(),
        );
        let mut binary = Self::start(&config, "warn").await;
        binary.issuer = Some(issuer);
        binary
    }
}
