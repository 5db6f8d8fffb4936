//! The scopegate route contract (the table below, as in the README) as an actix-web app.
//!
//! | route | rule |
//! |---|---|
//! | GET /api/public | no token needed |
//! | GET /api/private | any valid token |
//! | GET /api/products | `read:products` |
//! | POST /api/products | `write:products` |
//! | GET /api/orders | `read:orders` |
//! | DELETE /api/analytics | `delete:analytics` |
//! | GET /api/reports | `read:orders` and `read:analytics` |

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, delete, get, post, web};
use example_common::INVALID_BODY;
pub use example_common::{Config, ConfigProblem, NewProduct, Setup};
use scopegate_actix::{Claims, ScopeGate, Verifier, requires_scope};
use serde_json::json;

/// Registers the contract: `/api/public` open, the rest of `/api` behind `ScopeGate`.
pub fn routes(verifier: Verifier) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.service(public).service(
            web::scope("/api")
                .wrap(ScopeGate::new(verifier))
                .service(private)
                .service(list_products)
                .service(create_product)
                .service(list_orders)
                .service(delete_analytics)
                .service(reports),
        );
    }
}

#[get("/api/public")]
async fn public() -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "Public: no token needed."}))
}

#[get("/private")]
async fn private(claims: Claims) -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "Private: any valid token.", "sub": claims.subject(), "scopes": claims.scopes().to_string()}))
}

#[get("/products")]
#[requires_scope("read:products")]
async fn list_products() -> HttpResponse {
    HttpResponse::Ok().json(
        json!({"products": [{"id": 1, "name": "Espresso machine"}, {"id": 2, "name": "Grinder"}]}),
    )
}

/// An empty body or `{"name": ...}`.
#[post("/products")]
#[requires_scope("write:products")]
async fn create_product(claims: Claims, body: web::Bytes) -> HttpResponse {
    match NewProduct::from_body(&body) {
        Ok(product) => {
            let name = product.map(|product| product.name);
            HttpResponse::Created()
                .json(json!({"message": "Product created.", "name": name, "by": claims.subject()}))
        }
        Err(_) => HttpResponse::BadRequest()
            .json(json!({"error": "invalid_body", "error_description": INVALID_BODY})),
    }
}

#[get("/orders")]
#[requires_scope("read:orders")]
async fn list_orders() -> HttpResponse {
    HttpResponse::Ok().json(json!({"orders": [{"id": "o-1001", "total": 42.5}]}))
}

#[delete("/analytics")]
#[requires_scope("delete:analytics")]
async fn delete_analytics() -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "Analytics deleted."}))
}

#[get("/reports")]
#[requires_scope("read:orders", "read:analytics")]
async fn reports() -> HttpResponse {
    HttpResponse::Ok().json(json!({"reports": [{"id": "r-7", "orders": 128}]}))
}

/// The server on `listener`, `workers` worker threads; await it (or spawn it) to serve.
pub fn server(
    listener: TcpListener,
    verifier: Verifier,
    workers: usize,
) -> std::io::Result<Server> {
    let server = HttpServer::new(move || App::new().configure(routes(verifier.clone())))
        .workers(workers)
        .listen(listener)?
        .run();
    Ok(server)
}
