use scopegate_tower::requires_scope;

#[requires_scope()]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
