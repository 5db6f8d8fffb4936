use scopegate_tower::requires_claim;

#[requires_claim(equals("org_id", "a", "b"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
