use scopegate_tower::requires_claim;

#[requires_claim(includes("roles"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
