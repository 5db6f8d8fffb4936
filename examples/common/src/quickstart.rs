//! The offline quick start: for each persona of the built-in tenant, a token from the
//! embedded issuer and curl commands against the route contract, each announcing the
//! status it gets and why.

use std::fmt::Write;

use scopegate_dev_issuer::{DevIssuer, TokenRequest};

/// One request of the quick start and what it must return.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// HTTP method.
    pub method: &'static str,
    /// Path of the route contract.
    pub path: &'static str,
    /// Expected status.
    pub status: u16,
    /// Why.
    pub why: &'static str,
}

/// Someone asking the embedded issuer for a token, and what their token can do.
#[derive(Debug, Clone, Copy)]
pub struct Persona {
    /// Who, for the printout.
    pub name: &'static str,
    /// The token request (`None`: no token).
    pub login: Option<Login>,
    /// Requests to make with the token.
    pub commands: &'static [Command],
}

/// How a persona gets a token from the built-in tenant.
#[derive(Debug, Clone, Copy)]
pub struct Login {
    /// Application.
    pub client_id: &'static str,
    /// API identifier.
    pub audience: &'static str,
    /// User (password grant); `None`: the application itself (client credentials).
    pub username: Option<&'static str>,
}

const RETAIL: &str = "https://retail.example/api";
const ALL_RETAIL: &str = "read:orders read:products write:products read:analytics delete:analytics";

/// The personas of the built-in tenant.
pub const PERSONAS: [Persona; 8] = [
    Persona {
        name: "Support Agent sam (Admin Portal; RBAC on, allow)",
        login: Some(Login {
            client_id: "admin-portal",
            audience: RETAIL,
            username: Some("sam"),
        }),
        commands: &[
            Command {
                method: "GET",
                path: "/api/orders",
                status: 200,
                why: "the Support Agent role grants read:orders",
            },
            Command {
                method: "POST",
                path: "/api/products",
                status: 403,
                why: "the Support Agent role lacks write:products",
            },
        ],
    },
    Persona {
        name: "Inventory Manager ivy (Admin Portal; RBAC on, allow)",
        login: Some(Login {
            client_id: "admin-portal",
            audience: RETAIL,
            username: Some("ivy"),
        }),
        commands: &[
            Command {
                method: "POST",
                path: "/api/products",
                status: 201,
                why: "the Inventory Manager role grants write:products",
            },
            Command {
                method: "GET",
                path: "/api/orders",
                status: 403,
                why: "the Inventory Manager role lacks read:orders",
            },
        ],
    },
    Persona {
        name: "nora, no roles (Admin Portal; RBAC on, allow)",
        login: Some(Login {
            client_id: "admin-portal",
            audience: RETAIL,
            username: Some("nora"),
        }),
        commands: &[
            Command {
                method: "GET",
                path: "/api/private",
                status: 200,
                why: "any valid token; hers carries no scopes",
            },
            Command {
                method: "GET",
                path: "/api/products",
                status: 403,
                why: "RBAC is on and she holds no role, so no permission",
            },
        ],
    },
    Persona {
        name: "Analytics Admin ada (Partner Analytics; RBAC off, allow via client grant)",
        login: Some(Login {
            client_id: "partner-analytics",
            audience: "https://analytics.retail.example/api",
            username: Some("ada"),
        }),
        commands: &[Command {
            method: "DELETE",
            path: "/api/analytics",
            status: 403,
            why: "RBAC is off so her role is ignored; the app's grant holds only read:analytics",
        }],
    },
    Persona {
        name: "Doctor doc (Health Mobile; RBAC on, allow via client grant)",
        login: Some(Login {
            client_id: "health-mobile",
            audience: "https://health.example/api",
            username: Some("doc"),
        }),
        commands: &[Command {
            method: "GET",
            path: "/api/private",
            status: 200,
            why: "valid token; its scope is read:patient_history only: the app grant caps the Doctor role",
        }],
    },
    Persona {
        name: "Doctor doc (Admin Portal; the portal has no user client grant for the health API)",
        login: Some(Login {
            client_id: "admin-portal",
            audience: "https://health.example/api",
            username: Some("doc"),
        }),
        commands: &[Command {
            method: "GET",
            path: "/api/orders",
            status: 403,
            why: "Auth0 issues the token, but without a client grant it carries no scopes",
        }],
    },
    Persona {
        name: "Reporting Job, a machine (client credentials)",
        login: Some(Login {
            client_id: "reporting-job",
            audience: RETAIL,
            username: None,
        }),
        commands: &[
            Command {
                method: "GET",
                path: "/api/reports",
                status: 200,
                why: "its grant holds read:orders and read:analytics",
            },
            Command {
                method: "POST",
                path: "/api/products",
                status: 403,
                why: "its grant lacks write:products",
            },
        ],
    },
    Persona {
        name: "no token",
        login: None,
        commands: &[
            Command {
                method: "GET",
                path: "/api/public",
                status: 200,
                why: "no token needed",
            },
            Command {
                method: "GET",
                path: "/api/private",
                status: 401,
                why: "a token is required",
            },
        ],
    },
];

/// The quick start text for an API at `api_base`, with tokens minted by `issuer`.
pub fn quickstart(issuer: &DevIssuer, api_base: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "No SCOPEGATE_ISSUER set: running the built-in dev issuer at {}",
        issuer.issuer()
    );
    let _ = writeln!(
        out,
        "Paste any line below; it prints the HTTP status (every password is <username>-pw)."
    );
    for persona in PERSONAS {
        let token = match persona.login {
            None => None,
            Some(login) => {
                let scope = login.username.map(|_| requested(login.audience));
                let request =
                    TokenRequest::built_in(login.client_id, login.username, login.audience, scope);
                match issuer.issue(&request) {
                    Ok(response) => Some(response),
                    Err(error) => {
                        let _ = writeln!(out, "\n# {}: no token ({error})", persona.name);
                        continue;
                    }
                }
            }
        };
        let scope = token
            .as_ref()
            .map_or("-".to_owned(), |t| format!("\"{}\"", t.scope));
        let _ = writeln!(out, "\n# {} — token scope {scope}", persona.name);
        for command in persona.commands {
            let mut line = format!(
                "curl -s -o /dev/null -w '%{{http_code}}\\n' -X {}",
                command.method
            );
            if let Some(token) = &token {
                let _ = write!(line, " -H 'Authorization: Bearer {}'", token.access_token);
            }
            if command.method == "POST" {
                line.push_str(" -H 'Content-Type: application/json' -d '{\"name\":\"Grinder\"}'");
            }
            let _ = write!(
                line,
                " {api_base}{}  # expect {}: {} {}, {}",
                command.path, command.status, command.method, command.path, command.why
            );
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// What a user persona asks for: every permission of the API.
fn requested(audience: &str) -> &'static str {
    match audience {
        RETAIL => ALL_RETAIL,
        "https://analytics.retail.example/api" => "read:analytics delete:analytics",
        _ => "read:patient_history write:patient_history",
    }
}
