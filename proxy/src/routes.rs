//! The route table: which upstream and which rule a (method, canonical path) has.

use http::{Method, Uri};
use scopegate_core::{Access, Authenticator, Requirement};

use crate::config::{ProxyConfigError, RouteConfig, parse_token_sources};
use crate::path::canonical_path;

/// One route, checked and ready.
#[derive(Debug, Clone)]
pub struct Route {
    /// Canonical prefix without a trailing `/` (except the root `/`).
    prefix: String,
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

    fn covers(&self, path: &str) -> bool {
        self.prefix == "/"
            || path
                .strip_prefix(self.prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// All routes, longest prefix first.
#[derive(Debug, Clone)]
pub struct Routes(Vec<Route>);

impl Routes {
    /// Checks and orders the configured routes; `authenticator` serves routes that name
    /// no token sources of their own.
    pub fn new(
        configs: &[RouteConfig],
        authenticator: &Authenticator,
    ) -> Result<Self, ProxyConfigError> {
        let mut routes = configs
            .iter()
            .enumerate()
            .map(|(i, config)| {
                route(config, authenticator).map_err(|problem| ProxyConfigError::Route {
                    index: i + 1,
                    prefix: config.prefix.clone(),
                    problem,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        routes.sort_by_key(|route| std::cmp::Reverse(route.prefix.len()));
        Ok(Self(routes))
    }

    /// The route for a request: among the routes with the longest prefix covering
    /// `path`, the first allowing `method`. `None` (refused) when those routes do not
    /// allow the method: a shorter prefix never takes over a longer one's path.
    pub fn find(&self, method: &Method, path: &str) -> Option<&Route> {
        let longest = self.0.iter().find(|route| route.covers(path))?;
        self.0
            .iter()
            .filter(|route| route.prefix == longest.prefix)
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
        assert!(table.find(&Method::GET, "/api").is_some());
        assert!(table.find(&Method::GET, "/api/x").is_some());
        assert!(table.find(&Method::GET, "/apix").is_none());
        assert!(table.find(&Method::GET, "/").is_none());
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
