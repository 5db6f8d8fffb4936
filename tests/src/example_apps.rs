//! The two example apps served in-process on 127.0.0.1 with a verifier of the test's
//! making.

use scopegate_core::Verifier;

/// Serves the axum example with `verifier` in the background; returns `http://addr`.
pub async fn start_axum(verifier: Verifier) -> String {
    let (listener, addr) = example_axum_products::bind(0).await.expect("bind");
    tokio::spawn(example_axum_products::serve(listener, verifier));
    format!("http://{addr}")
}

/// Serves the actix example (one worker) with `verifier` in the background; returns
/// `http://addr`. Call it inside a tokio runtime.
pub fn start_actix(verifier: Verifier) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(example_actix_products::server(listener, verifier, 1).expect("server"));
    format!("http://{addr}")
}
