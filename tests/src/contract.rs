//! The route contract of the example APIs (the README's route table) as data: routes,
//! the scopes each needs, and what a request in each credential situation must get, as
//! one table of cases any adapter can be run against.

use scopegate_core::test_util::TestIssuer;

/// One route of the contract.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path.
    pub path: &'static str,
    /// `None`: public; `Some([])`: any valid token; otherwise all of these scopes.
    pub scopes: Option<&'static [&'static str]>,
    /// Status of an authorized request.
    pub success: u16,
    /// A JSON member every successful answer has.
    pub success_key: &'static str,
}

/// The seven routes both examples serve.
pub const ROUTES: [Route; 7] = [
    Route {
        method: "GET",
        path: "/api/public",
        scopes: None,
        success: 200,
        success_key: "message",
    },
    Route {
        method: "GET",
        path: "/api/private",
        scopes: Some(&[]),
        success: 200,
        success_key: "message",
    },
    Route {
        method: "GET",
        path: "/api/products",
        scopes: Some(&["read:products"]),
        success: 200,
        success_key: "products",
    },
    Route {
        method: "POST",
        path: "/api/products",
        scopes: Some(&["write:products"]),
        success: 201,
        success_key: "message",
    },
    Route {
        method: "GET",
        path: "/api/orders",
        scopes: Some(&["read:orders"]),
        success: 200,
        success_key: "orders",
    },
    Route {
        method: "DELETE",
        path: "/api/analytics",
        scopes: Some(&["delete:analytics"]),
        success: 200,
        success_key: "message",
    },
    Route {
        method: "GET",
        path: "/api/reports",
        scopes: Some(&["read:orders", "read:analytics"]),
        success: 200,
        success_key: "reports",
    },
];

/// What a response must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Status code.
    pub status: u16,
    /// The exact `WWW-Authenticate` value, or `None` for no header.
    pub challenge: Option<String>,
    /// The JSON `error` member of a rejection, or `None` for a success.
    pub error: Option<&'static str>,
}

impl Expected {
    /// A success with `route`'s status.
    pub fn success(route: &Route) -> Self {
        Self {
            status: route.success,
            challenge: None,
            error: None,
        }
    }

    /// A rejection: status, RFC 6750 code (if any), description, `scope` attribute (if any).
    pub fn rejection(
        status: u16,
        code: Option<&'static str>,
        description: &str,
        scope: Option<&str>,
    ) -> Self {
        let mut challenge = String::from(r#"Bearer realm="api""#);
        if let Some(code) = code {
            challenge.push_str(&format!(
                r#", error="{code}", error_description="{description}""#
            ));
        }
        if let Some(scope) = scope {
            challenge.push_str(&format!(r#", scope="{scope}""#));
        }
        Self {
            status,
            challenge: Some(challenge),
            error: Some(code.unwrap_or("unauthorized")),
        }
    }
}

/// A credential situation for a route.
#[derive(Debug, Clone, Copy)]
pub enum Situation {
    /// No `Authorization` header.
    NoToken,
    /// `Bearer two words`.
    MalformedHeader,
    /// Expired token with the right scopes.
    Expired,
    /// Token for another API.
    WrongAudience,
    /// Token signed by another key with the same `kid`.
    BadSignature,
    /// Valid token without the route's scopes.
    MissingScope,
    /// Valid token with the route's scopes.
    RightScope,
}

/// Every situation.
pub const SITUATIONS: [Situation; 7] = [
    Situation::NoToken,
    Situation::MalformedHeader,
    Situation::Expired,
    Situation::WrongAudience,
    Situation::BadSignature,
    Situation::MissingScope,
    Situation::RightScope,
];

/// One request and what it must get.
#[derive(Debug, Clone)]
pub struct Case {
    /// A readable name.
    pub name: String,
    /// HTTP method.
    pub method: &'static str,
    /// Path.
    pub path: &'static str,
    /// `Authorization` header values, in order.
    pub authorization: Vec<String>,
    /// Query string (without `?`), if any.
    pub query: Option<String>,
    /// The answer.
    pub expected: Expected,
}

/// What a response was: status, challenge and the JSON `error` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Status code.
    pub status: u16,
    /// `WWW-Authenticate`, if present.
    pub challenge: Option<String>,
    /// The JSON `error` member, if the body has one.
    pub error: Option<String>,
    /// Whether the body has the route's success member.
    pub success_body: bool,
}

/// The whole table: every route × situation, and the transport oddities.
pub fn cases(issuer: &TestIssuer, impostor: &TestIssuer) -> Vec<Case> {
    let mut cases = Vec::new();
    for route in &ROUTES {
        for situation in SITUATIONS {
            cases.push(Case {
                name: format!("{} {} with {situation:?}", route.method, route.path),
                method: route.method,
                path: route.path,
                authorization: authorization(issuer, impostor, route, situation)
                    .into_iter()
                    .collect(),
                query: None,
                expected: expected(route, situation),
            });
        }
    }
    for route in [&ROUTES[1], &ROUTES[4]] {
        let token = issuer
            .token()
            .scope(&route.scopes.unwrap_or(&[]).join(" "))
            .sign();
        let ok = Expected::success(route);
        let missing = Expected::rejection(401, None, "", None);
        let malformed = Expected::rejection(
            400,
            Some("invalid_request"),
            "Malformed bearer credentials",
            None,
        );
        let transport: [(&str, Vec<String>, Option<String>, &Expected); 9] = [
            (
                "lowercase scheme",
                vec![format!("bearer {token}")],
                None,
                &ok,
            ),
            (
                "uppercase scheme",
                vec![format!("BEARER {token}")],
                None,
                &ok,
            ),
            ("two spaces", vec![format!("Bearer  {token}")], None, &ok),
            (
                "two headers",
                vec![format!("Bearer {token}"), format!("Bearer {token}")],
                None,
                &malformed,
            ),
            (
                "query token off by default",
                vec![],
                Some(format!("access_token={token}")),
                &missing,
            ),
            (
                "header and ignored query token",
                vec![format!("Bearer {token}")],
                Some("access_token=x".into()),
                &ok,
            ),
            ("empty Bearer", vec!["Bearer".into()], None, &malformed),
            (
                "extra words",
                vec![format!("Bearer {token} extra")],
                None,
                &malformed,
            ),
            (
                "Basic scheme",
                vec!["Basic dXNlcjpwdw==".into()],
                None,
                &missing,
            ),
        ];
        for (name, authorization, query, expected) in transport {
            cases.push(Case {
                name: format!("{} {} with {name}", route.method, route.path),
                method: route.method,
                path: route.path,
                authorization,
                query,
                expected: expected.clone(),
            });
        }
    }
    cases
}

fn authorization(
    issuer: &TestIssuer,
    impostor: &TestIssuer,
    route: &Route,
    situation: Situation,
) -> Option<String> {
    let scopes = route.scopes.unwrap_or(&[]).join(" ");
    let token = match situation {
        Situation::NoToken => return None,
        Situation::MalformedHeader => return Some("Bearer two words".into()),
        Situation::Expired => issuer.token().scope(&scopes).expired().sign(),
        Situation::WrongAudience => issuer
            .token()
            .scope(&scopes)
            .audience("https://other.example/api")
            .sign(),
        Situation::BadSignature => impostor.token().scope(&scopes).sign(),
        Situation::MissingScope => issuer.token().scope("openid profile").sign(),
        Situation::RightScope => issuer.token().scope(&scopes).sign(),
    };
    Some(format!("Bearer {token}"))
}

fn expected(route: &Route, situation: Situation) -> Expected {
    let Some(scopes) = route.scopes else {
        return Expected::success(route);
    };
    match situation {
        Situation::NoToken => Expected::rejection(401, None, "", None),
        Situation::MalformedHeader => Expected::rejection(
            400,
            Some("invalid_request"),
            "Malformed bearer credentials",
            None,
        ),
        Situation::Expired => {
            Expected::rejection(401, Some("invalid_token"), "The access token expired", None)
        }
        Situation::WrongAudience => Expected::rejection(
            401,
            Some("invalid_token"),
            "The access token audience is not accepted",
            None,
        ),
        Situation::BadSignature => Expected::rejection(
            401,
            Some("invalid_token"),
            "The access token signature is invalid",
            None,
        ),
        Situation::MissingScope if scopes.is_empty() => Expected::success(route),
        Situation::MissingScope => Expected::rejection(
            403,
            Some("insufficient_scope"),
            "The access token lacks the required scope",
            Some(&scopes.join(" ")),
        ),
        Situation::RightScope => Expected::success(route),
    }
}
