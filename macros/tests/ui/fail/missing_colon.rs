use scopegate_tower::requires_scope;

#[requires_scope("write-products")]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
