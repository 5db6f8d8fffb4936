use scopegate_actix::requires_scope;

#[requires_scope("write:products")]
fn create() -> &'static str {
    "never"
}

fn main() {}
