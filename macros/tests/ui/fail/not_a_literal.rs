use scopegate_tower::requires_scope;

#[requires_scope(READ_ORDERS)]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
