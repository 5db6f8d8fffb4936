//! `cargo run -p example-actix-products` as a user runs it: the real binary, configured
//! from the environment, in front of a real OIDC issuer on 127.0.0.1.

#[tokio::test]
async fn the_binary_serves_the_contract_in_front_of_an_oidc_issuer() {
    scopegate_tests::example_binary::serves_the_contract(env!(
        "CARGO_BIN_EXE_example-actix-products"
    ))
    .await;
}

#[tokio::test]
async fn without_an_issuer_the_printed_quickstart_works_as_announced() {
    scopegate_tests::example_binary::quickstart_commands_return_what_they_announce(env!(
        "CARGO_BIN_EXE_example-actix-products"
    ))
    .await;
}

#[tokio::test]
async fn default_logging_records_refusals_and_not_accepted_requests() {
    scopegate_tests::example_binary::default_logging_records_refusals_only(env!(
        "CARGO_BIN_EXE_example-actix-products"
    ))
    .await;
}
