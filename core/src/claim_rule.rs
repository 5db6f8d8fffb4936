//! Custom claim rules: the claimEquals / claimIncludes / claimCheck of Auth0's middleware.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// An extra condition on a token's claims. A token failing any rule is rejected with
/// 401 `invalid_token` ([`ErrorKind::ClaimRuleFailed`](crate::ErrorKind::ClaimRuleFailed)).
///
/// ```
/// use scopegate_core::ClaimRule;
/// use serde_json::json;
///
/// let rules = [
///     ClaimRule::equals("https://retail.example/tier", "gold"),
///     ClaimRule::includes("https://retail.example/groups", ["staff", "eu"]),
///     ClaimRule::check("org is set", |claims| claims.get("org_id").is_some()),
/// ];
/// let claims = json!({
///     "https://retail.example/tier": "gold",
///     "https://retail.example/groups": ["eu", "staff", "admin"],
///     "org_id": "org_1",
/// });
/// let claims = claims.as_object().unwrap();
/// assert!(rules.iter().all(|rule| rule.is_satisfied_by(claims)));
/// ```
#[derive(Clone)]
pub struct ClaimRule {
    inner: Rule,
}

type CheckFn = dyn Fn(&Map<String, Value>) -> bool + Send + Sync;

#[derive(Clone)]
enum Rule {
    Equals { claim: String, value: Value },
    Includes { claim: String, values: Vec<String> },
    Check { name: String, check: Arc<CheckFn> },
}

impl ClaimRule {
    /// The claim must be present and equal to `value` (JSON equality).
    pub fn equals(claim: impl Into<String>, value: impl Into<Value>) -> Self {
        Self {
            inner: Rule::Equals {
                claim: claim.into(),
                value: value.into(),
            },
        }
    }

    /// The claim (an array of strings, or a space-separated string) must include every
    /// one of `values`.
    pub fn includes<I>(claim: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self {
            inner: Rule::Includes {
                claim: claim.into(),
                values: values.into_iter().map(Into::into).collect(),
            },
        }
    }

    /// An arbitrary check over all claims; `name` identifies it in logs.
    pub fn check<F>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn(&Map<String, Value>) -> bool + Send + Sync + 'static,
    {
        Self {
            inner: Rule::Check {
                name: name.into(),
                check: Arc::new(check),
            },
        }
    }

    /// Whether `claims` satisfy the rule.
    pub fn is_satisfied_by(&self, claims: &Map<String, Value>) -> bool {
        match &self.inner {
            Rule::Equals { claim, value } => claims.get(claim) == Some(value),
            Rule::Includes { claim, values } => match claims.get(claim) {
                Some(Value::Array(items)) => values
                    .iter()
                    .all(|wanted| items.iter().any(|item| item.as_str() == Some(wanted))),
                Some(Value::String(list)) => values
                    .iter()
                    .all(|wanted| list.split(' ').any(|item| item == wanted)),
                _ => false,
            },
            Rule::Check { check, .. } => check(claims),
        }
    }
}

impl fmt::Debug for ClaimRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Rule::Equals { claim, value } => f
                .debug_struct("Equals")
                .field("claim", claim)
                .field("value", value)
                .finish(),
            Rule::Includes { claim, values } => f
                .debug_struct("Includes")
                .field("claim", claim)
                .field("values", values)
                .finish(),
            Rule::Check { name, .. } => f
                .debug_struct("Check")
                .field("name", name)
                .finish_non_exhaustive(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn equals_needs_exact_json_value() {
        let rule = ClaimRule::equals("tier", "gold");
        assert!(rule.is_satisfied_by(&claims(json!({"tier": "gold"}))));
        assert!(!rule.is_satisfied_by(&claims(json!({"tier": "Gold"}))));
        assert!(!rule.is_satisfied_by(&claims(json!({"tier": ["gold"]}))));
        assert!(!rule.is_satisfied_by(&claims(json!({}))));
    }

    #[test]
    fn includes_needs_all_values() {
        let rule = ClaimRule::includes("groups", ["a", "b"]);
        assert!(rule.is_satisfied_by(&claims(json!({"groups": ["b", "c", "a"]}))));
        assert!(rule.is_satisfied_by(&claims(json!({"groups": "a b"}))));
        assert!(!rule.is_satisfied_by(&claims(json!({"groups": ["a"]}))));
        assert!(!rule.is_satisfied_by(&claims(json!({"groups": "ab"}))));
        assert!(!rule.is_satisfied_by(&claims(json!({"groups": {"a": 1, "b": 1}}))));
    }

    #[test]
    fn check_runs_the_closure() {
        let rule = ClaimRule::check("has org", |c| c.contains_key("org"));
        assert!(rule.is_satisfied_by(&claims(json!({"org": 1}))));
        assert!(!rule.is_satisfied_by(&claims(json!({}))));
    }
}
