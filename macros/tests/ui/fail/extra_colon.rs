use scopegate_tower::requires_scope;

#[requires_scope(any("read:orders:all"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
