//! gRPC: the tonic-health example behind `GrpcAuthLayer`, driven by a real tonic client
//! over HTTP/2 on 127.0.0.1, with tokens from the dev issuer and its JWKS endpoint.

use std::sync::{Arc, Mutex};

use scopegate_core::VerifierConfig;
use scopegate_core::test_util::TestIssuer;
use scopegate_dev_issuer::{DevIssuer, Tenant, TokenRequest};
use scopegate_tests::{Idp, Metadata};
use scopegate_tower::{Access, GrpcAuthLayer, MethodRules, VerifiedToken, Verifier};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

const RETAIL: &str = "https://retail.example/api";

/// The built-in tenant's issuer on 127.0.0.1, and a verifier for its retail API.
async fn dev_issuer() -> (DevIssuer, Verifier) {
    let issuer = DevIssuer::start(Tenant::built_in())
        .await
        .expect("dev issuer");
    let verifier = VerifierConfig::new(issuer.issuer(), RETAIL)
        .build()
        .expect("verifier");
    (issuer, verifier)
}

/// The dev issuer's token for an application (client credentials) or one of its users.
fn token(issuer: &DevIssuer, client_id: &str, username: Option<&str>) -> String {
    let scope = username.map(|_| "read:orders read:analytics");
    let request = TokenRequest::built_in(client_id, username, RETAIL, scope);
    issuer.issue(&request).expect("token").access_token
}

/// The example server on 127.0.0.1 in front of `verifier`, and a client connected to it.
async fn start_example(verifier: Verifier) -> HealthClient<Channel> {
    let (listener, addr) = example_tonic_health::bind(0).await.expect("bind");
    tokio::spawn(example_tonic_health::serve(listener, verifier));
    connect(addr).await
}

async fn connect(addr: std::net::SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    HealthClient::new(channel)
}

/// A request carrying `authorization: <value>`, or no credentials.
fn request(authorization: Option<&str>) -> Request<HealthCheckRequest> {
    let mut request = Request::new(HealthCheckRequest::default());
    if let Some(value) = authorization {
        let value = MetadataValue::try_from(value).expect("ascii metadata");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

async fn check(
    client: &mut HealthClient<Channel>,
    authorization: Option<&str>,
) -> Result<i32, Status> {
    Ok(client
        .check(request(authorization))
        .await?
        .into_inner()
        .status)
}

/// The first message of a `Watch` stream.
async fn watch(
    client: &mut HealthClient<Channel>,
    authorization: Option<&str>,
) -> Result<i32, Status> {
    let mut stream = client.watch(request(authorization)).await?.into_inner();
    let first = stream.message().await?.expect("a first status");
    Ok(first.status)
}

/// A unary call to a method the server's rules do not list (tonic would answer
/// `UNIMPLEMENTED` for it; the layer refuses it first).
async fn unlisted(addr: std::net::SocketAddr, authorization: Option<&str>) -> Status {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/List");
    let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
    grpc.unary(request(authorization), path, codec)
        .await
        .expect_err("an unlisted method is refused")
}

fn assert_status(result: Result<i32, Status>, code: Code, message: &str) {
    let status = result.expect_err("refused");
    assert_eq!((status.code(), status.message()), (code, message));
}

#[tokio::test]
async fn each_health_method_follows_its_rule() {
    let (issuer, verifier) = dev_issuer().await;
    let mut client = start_example(verifier).await;
    let serving = ServingStatus::Serving as i32;
    let machine = format!("Bearer {}", token(&issuer, "reporting-job", None));
    let sam = format!("Bearer {}", token(&issuer, "admin-portal", Some("sam")));

    // Check is public; a token that is presented is still verified.
    assert_eq!(check(&mut client, None).await.expect("check"), serving);
    assert_eq!(
        check(&mut client, Some(&machine)).await.expect("check"),
        serving
    );
    assert_status(
        check(&mut client, Some("Bearer not.a.token")).await,
        Code::Unauthenticated,
        "The access token is malformed",
    );
    assert_status(
        check(&mut client, Some("Bearer two tokens")).await,
        Code::Unauthenticated,
        "Malformed bearer credentials",
    );
    // Another scheme carries no bearer token: anonymous, as on an HTTP optional route.
    assert_eq!(
        check(&mut client, Some("Basic dXNlcjpwYXNz"))
            .await
            .expect("check"),
        serving
    );

    // Watch needs read:analytics: the machine's grant has it, Sam's role does not.
    assert_eq!(
        watch(&mut client, Some(&machine)).await.expect("watch"),
        serving
    );
    assert_status(
        watch(&mut client, Some(&sam)).await,
        Code::PermissionDenied,
        "The access token lacks the required scope",
    );
    for anonymous in [None, Some("Basic dXNlcjpwYXNz")] {
        assert_status(
            watch(&mut client, anonymous).await,
            Code::Unauthenticated,
            "Bearer access token required",
        );
    }
}

#[tokio::test]
async fn unlisted_methods_are_refused_before_tonic_sees_them() {
    let (issuer, verifier) = dev_issuer().await;
    let (listener, addr) = example_tonic_health::bind(0).await.expect("bind");
    tokio::spawn(example_tonic_health::serve(listener, verifier));
    let machine = format!("Bearer {}", token(&issuer, "reporting-job", None));

    let status = unlisted(addr, Some(&machine)).await;
    assert_eq!(
        (status.code(), status.message()),
        (
            Code::PermissionDenied,
            "No rule grants access to this route"
        )
    );
    let status = unlisted(addr, None).await;
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unauthenticated, "Bearer access token required")
    );
}

#[tokio::test]
async fn unreachable_keys_are_unavailable() {
    let idp = Idp::start(serde_json::json!({"keys": []}), Metadata::Oidc).await;
    idp.stop().await;
    let signer = TestIssuer::new().with_issuer(idp.issuer());
    let verifier = VerifierConfig::new(idp.issuer(), signer.audience())
        .build()
        .expect("verifier");
    let mut client = start_example(verifier).await;
    let bearer = format!("Bearer {}", signer.token().scope("read:analytics").sign());
    assert_status(
        watch(&mut client, Some(&bearer)).await,
        Code::Unavailable,
        "The token signing keys are unavailable",
    );
}

#[tokio::test]
async fn tonic_handlers_see_the_verified_token() {
    let (issuer, verifier) = dev_issuer().await;
    let rules = MethodRules::new().other_methods(Access::Authenticated);
    let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let record = Arc::clone(&seen);
    let interceptor = move |request: Request<()>| {
        let token = request
            .extensions()
            .get::<VerifiedToken>()
            .ok_or_else(|| Status::internal("no verified token"))?;
        let subject = token.subject().unwrap_or_default().to_owned();
        record
            .lock()
            .expect("lock")
            .push((subject, token.scopes().to_string()));
        Ok(request)
    };
    let (reporter, _) = tonic_health::server::health_reporter();
    let health = tonic_health::pb::health_server::HealthServer::with_interceptor(
        tonic_health::server::HealthService::from_health_reporter(reporter),
        interceptor,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(
        Server::builder()
            .layer(GrpcAuthLayer::new(verifier, rules))
            .add_service(health)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let mut client = connect(addr).await;
    let machine = format!("Bearer {}", token(&issuer, "reporting-job", None));
    check(&mut client, Some(&machine)).await.expect("check");
    assert_eq!(
        seen.lock().expect("lock").as_slice(),
        [(
            "reporting-job@clients".to_owned(),
            "read:orders read:analytics".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_printed_quick_start_says_what_each_call_gets() {
    let (issuer, verifier) = dev_issuer().await;
    let (listener, addr) = example_tonic_health::bind(0).await.expect("bind");
    tokio::spawn(example_tonic_health::serve(listener, verifier));
    let mut client = connect(addr).await;
    let quickstart = example_tonic_health::quickstart(&issuer, addr);
    let mut checked = 0;
    for line in quickstart
        .lines()
        .filter(|line| line.starts_with("grpcurl"))
    {
        let authorization = line
            .split("'authorization: ")
            .nth(1)
            .and_then(|rest| rest.split('\'').next());
        let result = if line.contains("/Check") {
            check(&mut client, authorization).await
        } else {
            watch(&mut client, authorization).await
        };
        match result {
            Ok(status) => {
                assert_eq!(status, ServingStatus::Serving as i32, "{line}");
                assert!(
                    line.contains("# expect SERVING")
                        || line.contains("# expect a stream of SERVING"),
                    "{line}"
                );
            }
            Err(status) => {
                let expected = format!("# expect {:?}", status.code());
                assert!(line.contains(&expected), "{expected}: {line}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}
