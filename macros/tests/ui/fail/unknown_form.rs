use scopegate_tower::requires_scope;

#[requires_scope(one("read:orders"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
