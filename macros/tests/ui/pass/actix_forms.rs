use actix_web::{App, HttpResponse, Responder, get, post, web};
use scopegate_actix::{Claims, ScopeGate, Verifier, requires_scope};
use serde::Deserialize;

#[derive(Deserialize)]
struct NewProduct {
    name: String,
}

/// Docs stay on the handler.
#[post("/api/products")]
#[requires_scope("write:products")]
async fn create(claims: Claims, body: web::Json<NewProduct>) -> impl Responder {
    HttpResponse::Created().body(format!("{} {}", claims.subject().unwrap_or_default(), body.name))
}

#[get("/api/reports")]
#[requires_scope("read:orders", "read:analytics")]
async fn reports() -> impl Responder {
    "reports"
}

#[get("/api/any/{id}")]
#[requires_scope(any("read:orders", "read:analytics"))]
async fn any_of(id: web::Path<u32>) -> impl Responder {
    id.to_string()
}

#[requires_scope(all("delete:analytics"))]
pub async fn without_route_macro(state: web::Data<String>, body: String) -> impl Responder {
    format!("{} {body}", state.get_ref())
}

fn app(verifier: Verifier) {
    let _ = App::new()
        .wrap(ScopeGate::new(verifier))
        .app_data(web::Data::new("retail".to_owned()))
        .service(create)
        .service(reports)
        .service(any_of)
        .route("/state", web::post().to(without_route_macro));
}

fn main() {
    let _ = app;
}
