use scopegate_tower::requires_scope;

#[requires_scope("read:orders")]
fn handler() -> &'static str {
    "never"
}

fn main() {}
