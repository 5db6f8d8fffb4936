//! Per-method rules for gRPC services: `/package.Service/Method` → [`Access`].

use std::collections::HashMap;

use crate::access::Access;
use crate::config::ConfigError;
use crate::error::AuthError;
use crate::requirement::Requirement;
use crate::token::VerifiedToken;

/// What each gRPC method demands, by its request path `/package.Service/Method`.
/// A method is looked up exactly, then by its service (`/package.Service/*`); a method
/// listed nowhere is refused (closed by default: 401 without a token, 403
/// [`RouteNotPermitted`](crate::ErrorKind::RouteNotPermitted) with one), unless
/// [`other_methods`](Self::other_methods) says otherwise.
///
/// ```
/// use scopegate_core::{Access, MethodRules, Requirement};
///
/// let rules = MethodRules::new()
///     .public("/grpc.health.v1.Health/Check")?
///     .require("/shop.Orders/List", Requirement::all(["read:orders"])?)?
///     .method("/shop.Products/*", Access::Authenticated)?;
/// assert_eq!(rules.access("/grpc.health.v1.Health/Check"), Some(&Access::Public));
/// assert_eq!(rules.access("/shop.Products/Get"), Some(&Access::Authenticated));
/// assert_eq!(rules.access("/shop.Orders/Delete"), None); // refused
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MethodRules {
    methods: HashMap<Box<str>, Access>,
    /// By service path `/package.Service`.
    services: HashMap<Box<str>, Access>,
    other: Option<Access>,
}

impl MethodRules {
    /// No method listed: every request is refused until rules are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// `path` (`/package.Service/Method`, or `/package.Service/*` for every method of
    /// the service) demands `access`. A malformed path, or one listed twice, is
    /// [`ConfigError::InvalidMethodPath`].
    pub fn method(mut self, path: &str, access: Access) -> Result<Self, ConfigError> {
        let (service, method) = split_method_path(path).ok_or(ConfigError::InvalidMethodPath)?;
        let listed = if method == "*" {
            self.services.insert(service.into(), access)
        } else {
            self.methods.insert(path.into(), access)
        };
        match listed {
            None => Ok(self),
            Some(_) => Err(ConfigError::InvalidMethodPath),
        }
    }

    /// `path` needs no token (health checks, reflection).
    pub fn public(self, path: &str) -> Result<Self, ConfigError> {
        self.method(path, Access::Public)
    }

    /// `path` needs a token granting `requirement`.
    pub fn require(self, path: &str, requirement: Requirement) -> Result<Self, ConfigError> {
        self.method(path, Access::Scopes(requirement))
    }

    /// What methods listed nowhere demand, instead of being refused; for example
    /// [`Access::Authenticated`] to let any valid token call them.
    pub fn other_methods(mut self, access: Access) -> Self {
        self.other = Some(access);
        self
    }

    /// The rule for a request path; `None`: the method is refused.
    pub fn access(&self, path: &str) -> Option<&Access> {
        if let Some(access) = self.methods.get(path) {
            return Some(access);
        }
        split_method_path(path)
            .and_then(|(service, _)| self.services.get(service))
            .or(self.other.as_ref())
    }

    /// The decision for a request to `path`, given the verified token if any and whether
    /// an authentication step ran (see [`Access::authorize`] and [`Access::unlisted`]).
    pub fn authorize(
        &self,
        path: &str,
        token: Option<&VerifiedToken>,
        authenticated: bool,
    ) -> Result<(), AuthError> {
        match self.access(path) {
            Some(access) => access.authorize(token, authenticated),
            None => Err(Access::unlisted(token, authenticated)),
        }
    }
}

/// `/package.Service/Method` → (`/package.Service`, `Method`); `None` for anything else.
fn split_method_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    let well_formed = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    };
    (well_formed(service) && (method == "*" || well_formed(method)))
        .then(|| (&path[..=service.len()], method))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn methods_are_found_exactly_then_by_service_then_refused() {
        let orders = Access::Scopes(Requirement::all(["read:orders"]).expect("scope"));
        let rules = MethodRules::new()
            .method("/shop.Orders/*", Access::Authenticated)
            .and_then(|r| r.method("/shop.Orders/List", orders.clone()))
            .expect("rules");
        assert_eq!(rules.access("/shop.Orders/List"), Some(&orders));
        assert_eq!(
            rules.access("/shop.Orders/Get"),
            Some(&Access::Authenticated)
        );
        for unlisted in [
            "/shop.Products/List",
            "/shop.Orders",
            "/shop.Orders/List/x",
            "",
        ] {
            assert_eq!(rules.access(unlisted), None, "{unlisted}");
        }
        let open = rules.other_methods(Access::Public);
        assert_eq!(open.access("/shop.Products/List"), Some(&Access::Public));
        assert_eq!(
            open.authorize("/shop.Orders/Get", None, true)
                .map_err(|e| e.kind()),
            Err(ErrorKind::MissingCredentials)
        );
    }

    #[test]
    fn malformed_or_repeated_paths_are_configuration_errors() {
        for path in [
            "shop.Orders/List",
            "/shop.Orders",
            "/shop.Orders/",
            "//List",
            "/shop.Orders/List/x",
            "/shop Orders/List",
            "/*/List",
        ] {
            assert_eq!(
                MethodRules::new().public(path).err(),
                Some(ConfigError::InvalidMethodPath),
                "{path}"
            );
        }
        let twice = MethodRules::new()
            .public("/shop.Orders/List")
            .and_then(|r| r.method("/shop.Orders/List", Access::Authenticated));
        assert_eq!(twice.err(), Some(ConfigError::InvalidMethodPath));
    }
}
