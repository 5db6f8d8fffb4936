//! The body of `POST /api/products`: empty, or a JSON object with a `name`.

use serde::Deserialize;

/// A product to create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewProduct {
    /// Its name.
    pub name: String,
}

/// The fixed description of a body that is neither empty nor `{"name": "..."}`.
pub const INVALID_BODY: &str =
    r#"The body must be empty or a JSON object such as {"name": "Grinder"}"#;

impl NewProduct {
    /// Reads a request body: `Ok(None)` when it is empty (or only white space),
    /// `Ok(Some(..))` for a JSON object with a string `name`, `Err` otherwise.
    ///
    /// ```
    /// use example_common::NewProduct;
    ///
    /// assert_eq!(NewProduct::from_body(b""), Ok(None));
    /// assert_eq!(NewProduct::from_body(br#"{"name":"Grinder"}"#).map(|p| p.map(|p| p.name)), Ok(Some("Grinder".into())));
    /// assert!(NewProduct::from_body(b"name=Grinder").is_err());
    /// ```
    pub fn from_body(body: &[u8]) -> Result<Option<Self>, InvalidBody> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|_| InvalidBody)
    }
}

/// A body that is neither empty nor a JSON product (answered `400` with [`INVALID_BODY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBody;
