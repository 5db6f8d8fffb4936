use actix_web::{Responder, post};
use scopegate_actix::requires_scope;

#[post("/api/products")]
#[requires_scope("write products")]
async fn create() -> impl Responder {
    "never"
}

fn main() {}
