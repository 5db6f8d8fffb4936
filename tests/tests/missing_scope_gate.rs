//! actix scope rules without `ScopeGate` fail closed (401) and say why in the log. Alone in
//! its test binary: it installs a process-wide subscriber to see the worker threads' events.

use actix_web::{App, HttpResponse, HttpServer, get, web};
use scopegate_actix::{Claims, OptionalClaims, RequireScopes, requires_scope};
use scopegate_tests::CapturedLog;

#[get("/macro")]
#[requires_scope("write:products")]
async fn guarded() -> HttpResponse {
    HttpResponse::Ok().body("must never run")
}

#[get("/claims")]
async fn claims(claims: Claims) -> HttpResponse {
    HttpResponse::Ok().body(claims.scopes().to_string())
}

#[get("/optional")]
async fn optional(identity: OptionalClaims) -> HttpResponse {
    match identity.into_inner() {
        Some(token) => HttpResponse::Ok().body(token.scopes().to_string()),
        None => HttpResponse::Ok().body("must never run"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scope_rule_refuses_without_the_gate_and_logs_it() {
    let log = CapturedLog::default();
    log.install_global(tracing::Level::WARN);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = HttpServer::new(|| {
        App::new()
            .service(guarded)
            .service(claims)
            .service(optional)
            .service(
                web::resource("/layer")
                    .wrap(RequireScopes::all(["write:products"]))
                    .to(|| async { "must never run" }),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    for path in ["/macro", "/layer", "/claims", "/optional"] {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("authorization", "Bearer a.b.c")
            .send()
            .await
            .expect("response");
        assert_eq!(response.status().as_u16(), 401, "{path}");
        assert_ne!(
            response.text().await.expect("body"),
            "must never run",
            "{path}"
        );
    }
    let lines = log.take_lines();
    let missing = lines
        .iter()
        .filter(|line| line.contains("authentication layer is missing"))
        .count();
    assert_eq!(missing, 4, "{lines:#?}");
}
