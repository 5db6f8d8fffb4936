//! `scopegate-proxy --config proxy.toml` (the repository root's) as shipped, offline: the built-in dev
//! issuer starts, the printed tokens work through the proxy, the routes decide.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

#[tokio::test]
async fn the_shipped_config_runs_offline_with_the_dev_issuer() {
    // A stand-in for "any service on 127.0.0.1:9000": answers 200 to everything.
    let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream_addr = upstream.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|| async { "upstream" });
    tokio::spawn(async move { axum::serve(upstream, app).await.expect("serve") });

    // The shipped file, on free ports.
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../proxy.toml"))
        .expect("proxy.toml");
    assert!(
        !shipped.contains("\n[issuer]"),
        "the shipped config runs offline"
    );
    let config = shipped
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9000", &upstream_addr.to_string());
    let dir = std::env::temp_dir().join(format!("scopegate-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("proxy.toml");
    std::fs::write(&path, config).expect("write config");

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate-proxy"))
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut base, mut tokens) = (None, Vec::new());
    let read = async {
        while let Some(line) = lines.next_line().await.expect("line") {
            if let Some(addr) = line.strip_prefix("scopegate-proxy listening on ") {
                base = Some(addr.to_owned());
            }
            if let Some(token) = line
                .split("Bearer ")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
            {
                tokens.push(token.to_owned());
            }
            if tokens.len() == 3 {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("the proxy starts and prints three tokens");
    let base = base.expect("listening line");
    let client = reqwest::Client::new();
    let status = |path: &'static str, token: Option<&String>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("send").status().as_u16() }
    };
    // Printed in order: the machine (read:orders read:analytics), sam, ivy.
    let (machine, sam, ivy) = (&tokens[0], &tokens[1], &tokens[2]);
    assert_eq!(status("/", None).await, 200);
    assert_eq!(status("/orders", None).await, 401);
    assert_eq!(status("/orders", Some(sam)).await, 200);
    assert_eq!(status("/orders", Some(ivy)).await, 403);
    assert_eq!(status("/reports", Some(machine)).await, 200);
    assert_eq!(status("/reports", Some(sam)).await, 403);
    child.kill().await.expect("kill");
    let _ = std::fs::remove_dir_all(dir);
}
