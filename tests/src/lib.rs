//! Shared parts of scopegate's cross-crate integration tests: the route contract as data,
//! a controllable identity provider on 127.0.0.1, and a capture of `tracing` output.

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeSnippets;

pub mod contract;
pub mod dpop_client;
pub mod example_apps;
pub mod example_binary;
pub mod idp;
pub mod log;

pub use idp::{DISCOVERED_JWKS_PATH, FALLBACK_JWKS_PATH, Idp, ManualClock, Metadata, Mode};
pub use log::CapturedLog;

/// Serves `router` on 127.0.0.1 (a free port) in the background; returns `http://addr`.
pub async fn spawn_app(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

/// Serves an actix-web app made of what `configure` registers, on 127.0.0.1 (a free port,
/// one worker) in the background; returns `http://addr`. Call it inside a tokio runtime.
pub fn spawn_actix_app<F>(configure: F) -> String
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run();
    tokio::spawn(server);
    base
}
