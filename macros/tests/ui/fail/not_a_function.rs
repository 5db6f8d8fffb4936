use scopegate_tower::requires_scope;

#[requires_scope("read:orders")]
struct Handler;

fn main() {}
