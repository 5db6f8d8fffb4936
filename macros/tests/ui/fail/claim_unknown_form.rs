use scopegate_tower::requires_claim;

#[requires_claim(matches("org_id", "acme"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
