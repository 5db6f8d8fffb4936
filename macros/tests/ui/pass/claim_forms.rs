use axum::Router;
use axum::routing::get;
use scopegate_tower::{AuthLayer, Claims, Verifier, requires_claim, requires_scope};

#[requires_claim(equals("org_id", "acme"))]
async fn org() -> &'static str {
    "acme"
}

#[requires_claim(equals("https://retail.example/level", 3))]
async fn level() {}

#[requires_claim(equals("email_verified", true,))]
async fn verified(claims: Claims) -> String {
    claims.subject().unwrap_or_default().to_owned()
}

#[requires_claim(includes("https://retail.example/roles", "billing", "eu"))]
#[requires_scope("read:invoices")]
async fn invoices() {}

mod actix {
    use actix_web::{HttpResponse, get};
    use scopegate_actix::{requires_claim, requires_scope};

    #[get("/billing")]
    #[requires_claim(includes("roles", "billing"))]
    #[requires_scope("read:invoices")]
    pub async fn billing() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/org", get(org))
        .route("/level", get(level))
        .route("/verified", get(verified))
        .route("/invoices", get(invoices))
        .layer(AuthLayer::new(verifier))
}

fn main() {
    let _ = app;
    let _ = actix_web::App::new().service(actix::billing);
}
