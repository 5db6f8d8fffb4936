//! The DESIGN route contract as data: routes, the scopes each needs, and what a request
//! in each credential situation must get. Shared by every adapter's contract test.

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
