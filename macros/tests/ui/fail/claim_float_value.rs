use scopegate_tower::requires_claim;

#[requires_claim(equals("org_id", 1.5))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
