//! The route table: which upstream and which rule a (method, canonical path) has.
//!
//! A path has one reading only if its letter case does not matter: Express (by
//! default), ASP.NET Core, IIS and case-insensitive file systems serve `/ORDERS` as
//! `/orders`. So a route is looked up twice, by the exact path against the exact
//! prefixes and by the case-folded path against the case-folded prefixes; when the two
//! lookups select routes with different rules or upstreams, the request is refused.

use http::{Method, Uri};
use scopegate_core::{Access, Authenticator, Requirement};

use crate::case_fold::folded;
use crate::config::{ProxyConfigError, RouteConfig, parse_token_sources};
use crate::path::canonical_path;

/// A path whose case-folded reading selects another route than its exact reading
/// (`/ORDERS` passing as the public `/` while `/orders` is scoped): refused with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the path selects another route when its letter case is folded")]
pub struct CaseConflict;

/// One route, checked and ready.
#[derive(Debug, Clone)]
pub struct Route {
    /// Canonical prefix without a trailing `/` (except the root `/`).
    prefix: String,
    /// `prefix`, case-folded.
    folded_prefix: String,
    /// Empty: any method.
    methods: Vec<Method>,
    /// `http://host:port`.
    upstream: Uri,
    access: Access,
    /// How callers of this route are authenticated (its token sources).
    authenticator: Authenticator,
}

impl Route {
    /// The upstream origin.
    pub fn upstream(&self) -> &Uri {
        &self.upstream
    }

    /// What the route demands.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// How callers of this route are authenticated: where the token is read.
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// Whether this route's rule, upstream and token sources are those of `other`.
    fn same_as(&self, other: &Route) -> bool {
        self.access == other.access
            && self.upstream == other.upstream
            && self.authenticator.sources() == other.authenticator.sources()
    }
}

/// Whether `prefix` covers `path` on whole segments.
fn covers(prefix: &str, path: &str) -> bool {
    prefix == "/"
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// All routes, in configuration order.
#[derive(Debug, Clone)]
pub struct Routes {
    routes: Vec<Route>,
    /// Whether every prefix is its own case-folded form (then a path that folds to
    /// itself needs no second lookup).
    prefixes_folded: bool,
}

impl Routes {
    /// Checks the configured routes: each valid, and no two prefixes differing only in
    /// letter case; `authenticator` serves routes that name no token sources of their own.
    pub fn new(
        configs: &[RouteConfig],
        authenticator: &Authenticator,
    ) -> Result<Self, ProxyConfigError> {
        let routes: Vec<Route> = configs
            .iter()
            .enumerate()
            .map(|(i, config)| {
                route(config, authenticator).map_err(|problem| ProxyConfigError::Route {
                    index: i + 1,
                    prefix: config.prefix.clone(),
                    problem,
                })
            })
            .collect::<Result<_, _>>()?;
        for (i, route) in routes.iter().enumerate() {
            let twin = routes[..i].iter().position(|earlier| {
                earlier.folded_prefix == route.folded_prefix && earlier.prefix != route.prefix
            });
            if let Some(twin) = twin {
                return Err(ProxyConfigError::Route {
                    index: i + 1,
                    prefix: configs[i].prefix.clone(),
                    problem: format!(
                        "the prefix differs from route {}'s only in letter case",
                        twin + 1
                    ),
                });
            }
        }
        let prefixes_folded = routes.iter().all(|r| r.prefix == r.folded_prefix);
        Ok(Self {
            routes,
            prefixes_folded,
        })
    }

    /// The route for a request with canonical `path`: among the routes with the longest
    /// prefix covering it, the first allowing `method`. `None` (refused) when those
    /// routes do not allow the method: a shorter prefix never takes over a longer one's
    /// path. [`CaseConflict`] when the case-folded path, matched against the
    /// case-folded prefixes, selects a route with another rule or upstream (or none
    /// where the exact path has one, or the reverse).
    pub fn find(&self, method: &Method, path: &str) -> Result<Option<&Route>, CaseConflict> {
        let exact = self.lookup(method, path, |route| &route.prefix);
        let folded_path = folded(path);
        if self.prefixes_folded && folded_path == path {
            return Ok(exact);
        }
        let other = self.lookup(method, &folded_path, |route| &route.folded_prefix);
        match (exact, other) {
            (None, None) => Ok(None),
            (Some(exact), Some(other)) if exact.same_as(other) => Ok(Some(exact)),
            _ => Err(CaseConflict),
        }
    }

    /// One reading: the longest `prefix` covering `path`, then the first route of that
    /// prefix allowing `method`.
    fn lookup<'a>(
        &'a self,
        method: &Method,
        path: &str,
        prefix: impl Fn(&'a Route) -> &'a str,
    ) -> Option<&'a Route> {
        let longest = self
            .routes
            .iter()
            .map(&prefix)
            .filter(|candidate| covers(candidate, path))
            .max_by_key(|candidate| candidate.len())?;
        self.routes
            .iter()
            .filter(|route| prefix(route) == longest)
            .find(|route| route.methods.is_empty() || route.methods.contains(method))
    }
}

fn route(config: &RouteConfig, authenticator: &Authenticator) -> Result<Route, String> {
    let canonical = canonical_path(&config.prefix)
        .map_err(|e| format!("prefix is not a canonical path ({e})"))?;
    if canonical != config.prefix {
        return Err(format!("write the prefix as {canonical}"));
    }
    let prefix = match canonical.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    let methods = config
        .methods
        .iter()
        .map(|m| {
            Method::from_bytes(m.as_bytes())
                .ok()
                .filter(|_| m.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| format!("`{m}` is not an upper-case HTTP method"))
        })
        .collect::<Result<_, _>>()?;
    let upstream: Uri = config
        .upstream
        .parse()
        .map_err(|_| "upstream is not a URL".to_owned())?;
    let origin_only = upstream.path_and_query().is_none_or(|p| p.as_str() == "/");
    if upstream.scheme_str() != Some("http") || upstream.authority().is_none() || !origin_only {
        return Err("upstream must be http://host:port, without a path".into());
    }
    let access = match (&config.require, config.public) {
        (Some(_), true) => return Err("a route is either public or requires scopes".into()),
        (None, true) => Access::Public,
        (None, false) => Access::Authenticated,
        (Some(require), false) => {
            let requirement = match (&require.all, &require.any) {
                (Some(all), None) => Requirement::all(all),
                (None, Some(any)) => Requirement::any(any),
                _ => return Err("require takes one of all = [..] or any = [..]".into()),
            };
            Access::Scopes(requirement.map_err(|e| format!("require: {e}"))?)
        }
    };
    let authenticator = match parse_token_sources(config.token_sources.as_deref()) {
        Ok(Some(sources)) => authenticator.clone().token_sources(sources),
        Ok(None) => authenticator.clone(),
        Err(error) => return Err(error.to_string()),
    };
    Ok(Route {
        folded_prefix: folded(&prefix).into_owned(),
        prefix,
        methods,
        upstream,
        access,
        authenticator,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(toml: &str) -> Result<Routes, ProxyConfigError> {
        let config: crate::ProxyConfig = toml::from_str(toml).expect("toml");
        let verifier = scopegate_core::VerifierConfig::new("https://issuer.example/", "api")
            .build()
            .expect("verifier");
        Routes::new(&config.routes, &Authenticator::new(verifier).optional())
    }

    const TABLE: &str = r#"
        [[route]]
        prefix = "/"
        upstream = "http://127.0.0.1:1"
        public = true
        [[route]]
        prefix = "/orders"
        methods = ["GET"]
        upstream = "http://127.0.0.1:2"
        require.all = ["read:orders"]
        [[route]]
        prefix = "/orders"
        methods = ["POST"]
        upstream = "http://127.0.0.1:2"
        require.any = ["write:orders", "admin:orders"]
    "#;

    #[test]
    fn the_longest_prefix_on_whole_segments_decides() {
        let table = routes(TABLE).expect("routes");
        let upstream = |method: Method, path: &str| {
            table
                .find(&method, path)
                .expect("one reading")
                .map(|r| (r.upstream().to_string(), r.access().clone()))
        };
        let read = Access::Scopes(Requirement::all(["read:orders"]).expect("scope"));
        assert_eq!(
            upstream(Method::GET, "/orders"),
            Some(("http://127.0.0.1:2/".into(), read.clone()))
        );
        assert_eq!(
            upstream(Method::GET, "/orders/7"),
            Some(("http://127.0.0.1:2/".into(), read))
        );
        assert!(matches!(
            upstream(Method::POST, "/orders/7"),
            Some((_, Access::Scopes(_)))
        ));
        // The public root does not take over /orders for other methods.
        assert_eq!(upstream(Method::DELETE, "/orders/7"), None);
        assert_eq!(
            upstream(Method::DELETE, "/orderly"),
            Some(("http://127.0.0.1:1/".into(), Access::Public))
        );
        assert_eq!(
            upstream(Method::GET, "/"),
            Some(("http://127.0.0.1:1/".into(), Access::Public))
        );
    }

    #[test]
    fn without_a_root_route_unmatched_paths_find_nothing() {
        let table = routes(
            r#"
            [[route]]
            prefix = "/api/"
            upstream = "http://127.0.0.1:2"
            "#,
        )
        .expect("routes");
        assert_eq!(
            table.find(&Method::GET, "/api").map(|r| r.is_some()),
            Ok(true)
        );
        assert_eq!(
            table.find(&Method::GET, "/api/x").map(|r| r.is_some()),
            Ok(true)
        );
        assert_eq!(
            table.find(&Method::GET, "/apix").map(|r| r.is_some()),
            Ok(false)
        );
        assert_eq!(
            table.find(&Method::GET, "/").map(|r| r.is_some()),
            Ok(false)
        );
    }

    /// Express, ASP.NET Core and IIS serve `/ORDERS` as `/orders`: a path whose letter
    /// case would move it to another rule has no single reading.
    #[test]
    fn a_path_whose_case_selects_another_rule_is_refused() {
        let table = routes(&format!(
            r#"{TABLE}
            [[route]]
            prefix = "/public"
            upstream = "http://127.0.0.1:1"
            public = true
            [[route]]
            prefix = "/public/admin"
            upstream = "http://127.0.0.1:1"
            require.all = ["delete:analytics"]
            [[route]]
            prefix = "/key"
            upstream = "http://127.0.0.1:1"
            require.all = ["read:keys"]
            [[route]]
            prefix = "/caf%C3%A9"
            upstream = "http://127.0.0.1:1"
            require.all = ["read:cafe"]
            "#
        ))
        .expect("routes");
        for path in [
            "/ORDERS",
            "/Orders/7",
            "/oRdErS",
            "/public/ADMIN/x",
            "/public/Admin",
            "/%E2%84%AAey", // Kelvin sign: folds to /key
            "/CAF%C3%89",   // É: folds to é
        ] {
            assert_eq!(
                table.find(&Method::GET, path).err(),
                Some(CaseConflict),
                "{path}"
            );
        }
        // Folding that keeps the rule changes nothing.
        for path in ["/Orderly", "/PUBLIC/x", "/public/administrator", "/Public"] {
            assert!(
                table.find(&Method::GET, path).is_ok_and(|r| r.is_some()),
                "{path}"
            );
        }
        // The exact reading of a route still works, and DELETE /ORDERS (refused for
        // /orders, public for /) is a conflict too.
        assert!(matches!(
            table.find(&Method::GET, "/orders"),
            Ok(Some(route)) if !route.access().is_public()
        ));
        assert_eq!(
            table.find(&Method::DELETE, "/ORDERS").err(),
            Some(CaseConflict)
        );
    }

    #[test]
    fn mixed_case_prefixes_match_their_exact_spelling_only() {
        let table = routes(
            r#"
            [[route]]
            prefix = "/"
            upstream = "http://127.0.0.1:1"
            public = true
            [[route]]
            prefix = "/API/Reports"
            upstream = "http://127.0.0.1:2"
            require.all = ["read:reports"]
            "#,
        )
        .expect("routes");
        assert!(matches!(
            table.find(&Method::GET, "/API/Reports/1"),
            Ok(Some(route)) if !route.access().is_public()
        ));
        for path in ["/api/reports", "/API/REPORTS/1", "/api/Reports"] {
            assert_eq!(
                table.find(&Method::GET, path).err(),
                Some(CaseConflict),
                "{path}"
            );
        }
        let twins = routes(
            r#"
            [[route]]
            prefix = "/admin"
            upstream = "http://127.0.0.1:1"
            [[route]]
            prefix = "/Admin"
            upstream = "http://127.0.0.1:1"
            public = true
            "#,
        )
        .expect_err("twins")
        .to_string();
        assert!(
            twins.contains("differs from route 1's only in letter case"),
            "{twins}"
        );
    }

    #[test]
    fn mistakes_are_reported_with_the_route() {
        for (route, problem) in [
            (r#"prefix = "orders""#, "prefix is not a canonical path"),
            (r#"prefix = "/a/../b""#, "prefix is not a canonical path"),
            (r#"prefix = "/%61""#, "write the prefix as /a"),
            (
                r#"prefix = "/a"
                methods = ["get"]"#,
                "`get` is not an upper-case HTTP method",
            ),
            (
                r#"prefix = "/a"
                public = true
                require.all = ["read:a"]"#,
                "either public or requires scopes",
            ),
            (
                r#"prefix = "/a"
                require.all = ["read"]"#,
                "require:",
            ),
            (
                r#"prefix = "/a"
                require = {}"#,
                "require takes one of",
            ),
        ] {
            let toml = format!("[[route]]\nupstream = \"http://127.0.0.1:2\"\n{route}");
            let error = routes(&toml).expect_err(route).to_string();
            assert!(error.contains(problem), "{route}: {error}");
        }
        for upstream in [
            "https://127.0.0.1:2",
            "http://127.0.0.1:2/base",
            "127.0.0.1:2",
            "http://h/?q",
        ] {
            let toml = format!("[[route]]\nprefix = \"/\"\nupstream = \"{upstream}\"");
            let error = routes(&toml).expect_err(upstream).to_string();
            assert!(error.contains("upstream"), "{upstream}: {error}");
        }
    }
}
