use scopegate_tower::requires_claim;

#[requires_claim(equals("", "acme"))]
async fn handler() -> &'static str {
    "never"
}

fn main() {}
