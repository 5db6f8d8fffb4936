//! The scopes a verified token grants, and where they are read from.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

/// The scopes granted by a verified token.
///
/// Matching is exact and case-sensitive: a scope is granted only if it is byte-for-byte
/// present. Checking does not allocate.
///
/// ```
/// use scopegate_core::ScopeSet;
///
/// let granted = ScopeSet::from_space_delimited("read:orders write:orders");
/// assert!(granted.contains("read:orders"));
/// assert!(!granted.contains("READ:orders"));
/// assert!(!granted.contains("read:*"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ScopeSet {
    scopes: Box<[Box<str>]>,
}

impl ScopeSet {
    /// Reads an RFC 6749 `scope` string: scope tokens separated by spaces.
    pub fn from_space_delimited(scope: &str) -> Self {
        scope.split(' ').filter(|s| !s.is_empty()).collect()
    }

    /// Whether `scope` is granted, byte for byte.
    pub fn contains(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| **granted == *scope)
    }

    /// The granted scopes, in the order the token lists them (duplicates removed).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.scopes.iter().map(|s| &**s)
    }

    /// How many distinct scopes are granted.
    pub fn len(&self) -> usize {
        self.scopes.len()
    }

    /// Whether no scope is granted.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }
}

/// Up to this many scopes, duplicates are found by comparing with each kept scope; beyond
/// it, with a hash set, so a claim of thousands of scopes stays linear.
const LINEAR_DEDUP_MAX: usize = 32;

impl<S: AsRef<str>> FromIterator<S> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut scopes: Vec<Box<str>> = Vec::new();
        // Built only once the linear limit is passed.
        let mut seen: Option<HashSet<Box<str>>> = None;
        for scope in iter {
            let scope = scope.as_ref();
            let new = if scopes.len() < LINEAR_DEDUP_MAX {
                !scopes.iter().any(|s| **s == *scope)
            } else {
                seen.get_or_insert_with(|| scopes.iter().cloned().collect())
                    .insert(scope.into())
            };
            if new {
                scopes.push(scope.into());
            }
        }
        Self {
            scopes: scopes.into_boxed_slice(),
        }
    }
}

/// Space-separated, like an RFC 6749 `scope` value.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Which claim(s) of a token grant scopes.
///
/// A claim grants scopes if it is a space-separated string or an array of strings;
/// any other JSON type (or an array holding a non-string) grants nothing.
///
/// ```
/// use scopegate_core::ScopeSource;
///
/// // Auth0 with "Add Permissions in the Access Token": read both claims.
/// let source = ScopeSource::union(ScopeSource::Scope, ScopeSource::Permissions);
/// # let _ = source;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeSource {
    /// The `scope` claim (RFC 8693 / RFC 9068), string or array. The default.
    #[default]
    Scope,
    /// The `scp` claim (Azure AD, Okta), string or array.
    Scp,
    /// Auth0's `permissions` array (RBAC with "Add Permissions in the Access Token").
    Permissions,
    /// A custom claim by name.
    Claim(String),
    /// A claim nested in objects, by its path: `["realm_access", "roles"]` reads
    /// Keycloak's `{"realm_access": {"roles": [...]}}`.
    Nested(Vec<String>),
    /// The union of two sources.
    Union(Box<ScopeSource>, Box<ScopeSource>),
}

impl ScopeSource {
    /// Reads scopes from the custom claim `name`.
    pub fn claim(name: impl Into<String>) -> Self {
        Self::Claim(name.into())
    }

    /// Reads scopes from a claim nested in objects, named by its path from the top. Names
    /// are matched exactly (a claim name may itself hold dots).
    ///
    /// ```
    /// use scopegate_core::ScopeSource;
    /// use serde_json::json;
    ///
    /// let keycloak = ScopeSource::nested(["realm_access", "roles"]);
    /// let claims = json!({"realm_access": {"roles": ["orders:read", "admin"]}});
    /// assert_eq!(keycloak.read(claims.as_object().unwrap()).to_string(), "orders:read admin");
    /// ```
    pub fn nested<I>(path: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self::Nested(path.into_iter().map(Into::into).collect())
    }

    /// The scopes granted by either `a` or `b`.
    pub fn union(a: ScopeSource, b: ScopeSource) -> Self {
        Self::Union(Box::new(a), Box::new(b))
    }

    /// Reads the granted scopes from a token's claims.
    pub fn read(&self, claims: &Map<String, Value>) -> ScopeSet {
        let mut names: Vec<&str> = Vec::new();
        self.collect(claims, &mut names);
        names.into_iter().collect()
    }

    fn collect<'a>(&self, claims: &'a Map<String, Value>, out: &mut Vec<&'a str>) {
        let claim = match self {
            Self::Scope => claims.get("scope"),
            Self::Scp => claims.get("scp"),
            Self::Permissions => claims.get("permissions"),
            Self::Claim(name) => claims.get(name),
            Self::Nested(path) => nested(claims, path),
            Self::Union(a, b) => {
                a.collect(claims, out);
                b.collect(claims, out);
                return;
            }
        };
        match claim {
            Some(Value::String(s)) => out.extend(s.split(' ').filter(|s| !s.is_empty())),
            Some(Value::Array(items)) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                out.extend(strings.unwrap_or_default());
            }
            _ => {}
        }
    }
}

/// The value at `path` through nested objects; `None` if a step is missing or not an
/// object, or the path is empty.
fn nested<'a>(claims: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut object = claims;
    for name in parents {
        object = object.get(name)?.as_object()?;
    }
    object.get(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_sources_walk_objects_only() {
        let keycloak = ScopeSource::nested(["realm_access", "roles"]);
        for (value, want) in [
            (
                json!({"realm_access": {"roles": ["a:b", "admin"]}}),
                "a:b admin",
            ),
            (json!({"realm_access": {"roles": "a:b c:d"}}), "a:b c:d"),
            (json!({"realm_access": [{"roles": ["a:b"]}]}), ""),
            (json!({"realm_access": {"roles": ["a:b", 1]}}), ""),
            (json!({"realm_access.roles": ["a:b"]}), ""),
            (json!({}), ""),
        ] {
            assert_eq!(
                keycloak.read(&claims(value.clone())).to_string(),
                want,
                "{value}"
            );
        }
        let dotted = ScopeSource::nested(["resource_access", "orders.api", "roles"]);
        let value = json!({"resource_access": {"orders.api": {"roles": ["read:orders"]}}});
        assert_eq!(dotted.read(&claims(value)).to_string(), "read:orders");
        assert!(
            ScopeSource::nested(Vec::<String>::new())
                .read(&claims(json!({"scope": "a:b"})))
                .is_empty()
        );
    }

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test claims are objects"),
        }
    }

    #[test]
    fn scope_string_is_space_delimited() {
        let set = ScopeSource::Scope.read(&claims(json!({"scope": "read:a  write:b read:a"})));
        assert_eq!(set.iter().collect::<Vec<_>>(), ["read:a", "write:b"]);
    }

    #[test]
    fn scope_array_is_read() {
        let set = ScopeSource::Scope.read(&claims(json!({"scope": ["read:a", "write:b"]})));
        assert!(set.contains("read:a") && set.contains("write:b"));
    }

    #[test]
    fn each_source_reads_only_its_claim() {
        let c = claims(json!({"scope": "s:1", "scp": "s:2", "permissions": ["s:3"], "x": "s:4"}));
        assert_eq!(ScopeSource::Scope.read(&c).to_string(), "s:1");
        assert_eq!(ScopeSource::Scp.read(&c).to_string(), "s:2");
        assert_eq!(ScopeSource::Permissions.read(&c).to_string(), "s:3");
        assert_eq!(ScopeSource::claim("x").read(&c).to_string(), "s:4");
        let union = ScopeSource::union(ScopeSource::Scope, ScopeSource::Permissions);
        assert_eq!(union.read(&c).to_string(), "s:1 s:3");
    }

    #[test]
    fn wrong_json_types_grant_nothing() {
        for value in [
            json!(1),
            json!(true),
            json!(null),
            json!({"read:a": true}),
            json!(["read:a", 1]),
            json!([["read:a"]]),
        ] {
            let set = ScopeSource::Scope.read(&claims(json!({ "scope": value })));
            assert!(set.is_empty(), "{value}");
        }
    }

    #[test]
    fn thousands_of_scopes_keep_their_order_without_duplicates() {
        let distinct: Vec<String> = (0..5_000).map(|i| format!("read:r{i}")).collect();
        let listed = distinct
            .iter()
            .chain(distinct.iter().rev())
            .chain(&distinct);
        let set: ScopeSet = listed.collect();
        assert_eq!(set.len(), distinct.len());
        assert!(set.iter().eq(distinct.iter().map(String::as_str)));
        assert!(set.contains("read:r4999") && !set.contains("read:r5000"));
    }

    #[test]
    fn duplicates_around_the_linear_limit_are_removed() {
        for distinct in [LINEAR_DEDUP_MAX - 1, LINEAR_DEDUP_MAX, LINEAR_DEDUP_MAX + 1] {
            let scopes: Vec<String> = (0..distinct).map(|i| format!("s:{i}")).collect();
            let set: ScopeSet = scopes.iter().chain(&scopes).collect();
            assert!(
                set.iter().eq(scopes.iter().map(String::as_str)),
                "{distinct}"
            );
        }
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let set = ScopeSet::from_space_delimited("read:orders");
        for other in [
            "READ:orders",
            "read:order",
            "read:orders ",
            "read:*",
            "read",
            "",
            "read:ordersx",
        ] {
            assert!(!set.contains(other), "{other:?}");
        }
        assert!(set.contains("read:orders"));
    }
}
