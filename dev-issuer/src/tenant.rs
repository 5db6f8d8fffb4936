//! The tenant: APIs, roles, users and applications, read from TOML and checked.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// Who may get a user token for an API (Auth0's "User Access" policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAccessPolicy {
    /// Any user of any application.
    Allow,
    /// Users get at most their application's `user` client grant for the API; without
    /// one, a token with no scopes.
    AllowViaClientGrant,
    /// Nobody: user token requests are refused.
    Deny,
}

/// An API (resource server): its identifier is the token audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The identifier, e.g. `https://retail.example/api`.
    pub identifier: String,
    /// Role-based access control: user tokens carry only their roles' permissions.
    pub rbac: bool,
    /// The user access policy.
    pub user_access_policy: UserAccessPolicy,
    /// "Add Permissions in the Access Token": user tokens also carry `permissions`.
    pub add_permissions_in_token: bool,
    /// The permissions the API defines, `verb:resource`.
    pub permissions: Vec<String>,
}

/// A role: permissions per API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// API identifier → permissions.
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// A user who can log in with the password grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name; the token `sub` is `auth0|<username>`.
    pub username: String,
    /// The password.
    pub password: String,
    /// Role names.
    pub roles: Vec<String>,
}

/// Which flows a client grant serves (Auth0's `subject_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// The application itself: client credentials (machine-to-machine).
    Client,
    /// Users logging in through the application (user access "via client grant").
    User,
}

impl SubjectType {
    /// The name in tenant files and Auth0's Management API: `client` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::User => "user",
        }
    }
}

/// A client grant: the most an application may get for one API in one kind of flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    /// The API identifier.
    pub audience: String,
    /// The flows it serves.
    pub subject_type: SubjectType,
    /// The permissions granted (the ceiling).
    pub scope: Vec<String>,
}

/// An application (client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// A display name.
    pub name: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Client grants, at most one per API and subject type.
    pub client_grants: Vec<ClientGrant>,
}

impl Application {
    /// The permissions of this application's client grant for `audience` and
    /// `subject_type`, if it has one.
    pub fn grant(&self, audience: &str, subject_type: SubjectType) -> Option<&[String]> {
        self.client_grants
            .iter()
            .find(|grant| grant.audience == audience && grant.subject_type == subject_type)
            .map(|grant| grant.scope.as_slice())
    }
}

/// A whole tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Lifetime of minted tokens, in seconds (default 3600).
    pub token_lifetime_secs: u64,
    /// The APIs.
    pub apis: Vec<Api>,
    /// The roles.
    pub roles: Vec<Role>,
    /// The users.
    pub users: Vec<User>,
    /// The applications.
    pub applications: Vec<Application>,
}

/// A configuration mistake, with where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// The built-in tenant: an internal admin portal, a partner analytics app, a healthcare
/// mobile app and a machine client (see `default_tenant.toml`).
pub const BUILT_IN_TOML: &str = include_str!("default_tenant.toml");

impl Tenant {
    /// The built-in tenant.
    pub fn built_in() -> Self {
        Self::from_toml(BUILT_IN_TOML)
            .unwrap_or_else(|error| panic!("the built-in tenant is valid: {error}"))
    }

    /// Reads and checks a tenant. Unknown keys, undefined roles or APIs, duplicates, and
    /// permissions that are not `verb:resource` or not defined on their API are errors.
    pub fn from_toml(source: &str) -> Result<Self, ConfigError> {
        let raw: RawTenant = toml::from_str(source).map_err(|error| ConfigError {
            message: error.message().to_owned(),
            ..position(source, error.span().unwrap_or(0..0))
        })?;
        raw.check(source)
    }

    /// The API with this identifier.
    pub fn api(&self, identifier: &str) -> Option<&Api> {
        self.apis.iter().find(|api| api.identifier == identifier)
    }

    /// The application with this client id.
    pub fn application(&self, client_id: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|app| app.client_id == client_id)
    }

    /// The user with this name.
    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|user| user.username == username)
    }

    /// The user's permissions for an API: the union over their roles.
    pub fn user_permissions(&self, user: &User, api: &str) -> Vec<String> {
        let mut permissions: Vec<String> = Vec::new();
        for role in self
            .roles
            .iter()
            .filter(|role| user.roles.contains(&role.name))
        {
            for permission in role.permissions.get(api).into_iter().flatten() {
                if !permissions.contains(permission) {
                    permissions.push(permission.clone());
                }
            }
        }
        permissions
    }
}

fn position(source: &str, span: Range<usize>) -> ConfigError {
    let before = &source[..span.start.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    ConfigError {
        line,
        column,
        message: String::new(),
    }
}

fn error_at<T>(source: &str, span: Range<usize>, message: String) -> Result<T, ConfigError> {
    Err(ConfigError {
        message,
        ..position(source, span)
    })
}

type SpannedList = Vec<Spanned<String>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    token_lifetime_secs: Option<u64>,
    #[serde(default, rename = "api")]
    apis: Vec<RawApi>,
    #[serde(default, rename = "role")]
    roles: Vec<RawRole>,
    #[serde(default, rename = "user")]
    users: Vec<RawUser>,
    #[serde(default, rename = "application")]
    applications: Vec<RawApplication>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    identifier: Spanned<String>,
    rbac: bool,
    user_access_policy: UserAccessPolicy,
    add_permissions_in_token: Option<Spanned<bool>>,
    permissions: SpannedList,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Spanned<String>,
    #[serde(default)]
    permissions: BTreeMap<Spanned<String>, SpannedList>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    username: Spanned<String>,
    password: String,
    #[serde(default)]
    roles: SpannedList,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    client_id: Spanned<String>,
    client_secret: String,
    #[serde(default, rename = "client_grant")]
    client_grants: Vec<RawClientGrant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClientGrant {
    audience: Spanned<String>,
    #[serde(default = "machine_flows")]
    subject_type: SubjectType,
    scope: SpannedList,
}

/// A client grant serves client credentials unless it says otherwise, as in Auth0.
fn machine_flows() -> SubjectType {
    SubjectType::Client
}

impl RawTenant {
    fn check(self, source: &str) -> Result<Tenant, ConfigError> {
        let mut apis: Vec<Api> = Vec::new();
        for raw in self.apis {
            if apis
                .iter()
                .any(|api| api.identifier == *raw.identifier.get_ref())
            {
                return error_at(
                    source,
                    raw.identifier.span(),
                    format!("API {:?} is defined twice", raw.identifier.get_ref()),
                );
            }
            if let Some(add) = &raw.add_permissions_in_token
                && *add.get_ref()
                && !raw.rbac
            {
                return error_at(
                    source,
                    add.span(),
                    "add_permissions_in_token needs rbac = true".into(),
                );
            }
            for permission in &raw.permissions {
                check_syntax(source, permission)?;
            }
            apis.push(Api {
                identifier: raw.identifier.into_inner(),
                rbac: raw.rbac,
                user_access_policy: raw.user_access_policy,
                add_permissions_in_token: raw
                    .add_permissions_in_token
                    .is_some_and(Spanned::into_inner),
                permissions: raw
                    .permissions
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
            });
        }
        // Permissions on one API: the API must exist and define each of them.
        let on_api = |api_id: &Spanned<String>,
                      permissions: SpannedList|
         -> Result<Vec<String>, ConfigError> {
            let Some(api) = apis.iter().find(|api| api.identifier == *api_id.get_ref()) else {
                return error_at(
                    source,
                    api_id.span(),
                    format!("API {:?} is not defined", api_id.get_ref()),
                );
            };
            for permission in &permissions {
                check_syntax(source, permission)?;
                if !api.permissions.contains(permission.get_ref()) {
                    let message = format!(
                        "permission {:?} is not defined on API {:?}",
                        permission.get_ref(),
                        api.identifier
                    );
                    return error_at(source, permission.span(), message);
                }
            }
            Ok(permissions.into_iter().map(Spanned::into_inner).collect())
        };
        let per_api = |map: BTreeMap<Spanned<String>, SpannedList>| -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
            let mut checked = BTreeMap::new();
            for (api_id, permissions) in map {
                let permissions = on_api(&api_id, permissions)?;
                checked.insert(api_id.into_inner(), permissions);
            }
            Ok(checked)
        };
        let mut roles: Vec<Role> = Vec::new();
        for raw in self.roles {
            if roles.iter().any(|role| role.name == *raw.name.get_ref()) {
                return error_at(
                    source,
                    raw.name.span(),
                    format!("role {:?} is defined twice", raw.name.get_ref()),
                );
            }
            roles.push(Role {
                name: raw.name.into_inner(),
                permissions: per_api(raw.permissions)?,
            });
        }
        let mut users: Vec<User> = Vec::new();
        for raw in self.users {
            if users
                .iter()
                .any(|user| user.username == *raw.username.get_ref())
            {
                return error_at(
                    source,
                    raw.username.span(),
                    format!("user {:?} is defined twice", raw.username.get_ref()),
                );
            }
            for role in &raw.roles {
                if !roles.iter().any(|r| r.name == *role.get_ref()) {
                    return error_at(
                        source,
                        role.span(),
                        format!("role {:?} is not defined", role.get_ref()),
                    );
                }
            }
            users.push(User {
                username: raw.username.into_inner(),
                password: raw.password,
                roles: raw.roles.into_iter().map(Spanned::into_inner).collect(),
            });
        }
        let mut applications: Vec<Application> = Vec::new();
        for raw in self.applications {
            if applications
                .iter()
                .any(|app| app.client_id == *raw.client_id.get_ref())
            {
                return error_at(
                    source,
                    raw.client_id.span(),
                    format!("client_id {:?} is defined twice", raw.client_id.get_ref()),
                );
            }
            let mut client_grants: Vec<ClientGrant> = Vec::new();
            for grant in raw.client_grants {
                if client_grants.iter().any(|g| {
                    g.audience == *grant.audience.get_ref() && g.subject_type == grant.subject_type
                }) {
                    let message = format!(
                        "a client grant with subject_type {:?} for API {:?} is defined twice",
                        grant.subject_type.as_str(),
                        grant.audience.get_ref()
                    );
                    return error_at(source, grant.audience.span(), message);
                }
                client_grants.push(ClientGrant {
                    scope: on_api(&grant.audience, grant.scope)?,
                    audience: grant.audience.into_inner(),
                    subject_type: grant.subject_type,
                });
            }
            applications.push(Application {
                name: raw.name,
                client_id: raw.client_id.into_inner(),
                client_secret: raw.client_secret,
                client_grants,
            });
        }
        Ok(Tenant {
            token_lifetime_secs: self.token_lifetime_secs.unwrap_or(3600),
            apis,
            roles,
            users,
            applications,
        })
    }
}

fn check_syntax(source: &str, permission: &Spanned<String>) -> Result<(), ConfigError> {
    match scopegate_syntax::validate_scope(permission.get_ref()) {
        Ok(()) => Ok(()),
        Err(error) => error_at(
            source,
            permission.span(),
            format!("permission {:?}: {}", permission.get_ref(), error.message()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> ConfigError {
        Tenant::from_toml(source).expect_err("invalid")
    }

    const API: &str = "[[api]]\nidentifier = \"https://a/\"\nrbac = true\nuser_access_policy = \"allow\"\npermissions = [\"read:a\"]\n";

    #[test]
    fn the_built_in_tenant_loads() {
        let tenant = Tenant::built_in();
        assert_eq!((tenant.apis.len(), tenant.applications.len()), (3, 4));
        assert_eq!(tenant.token_lifetime_secs, 3600);
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position() {
        let e = error(&format!("{API}rbacc = true\n"));
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("rbacc"), "{e}");
    }

    #[test]
    fn undefined_references_are_errors_with_a_position() {
        let e = error(&format!(
            "{API}[[user]]\nusername = \"u\"\npassword = \"p\"\nroles = [\"Ghost\"]\n"
        ));
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (9, 10, "role \"Ghost\" is not defined")
        );
        let e = error(&format!(
            "{API}[[role]]\nname = \"r\"\n[role.permissions]\n\"https://b/\" = [\"read:a\"]\n"
        ));
        assert_eq!(
            (e.line, e.message.as_str()),
            (9, "API \"https://b/\" is not defined")
        );
        let e = error(&format!(
            "{API}[[application]]\nname = \"x\"\nclient_id = \"x\"\nclient_secret = \"s\"\n[[application.client_grant]]\naudience = \"https://a/\"\nscope = [\"write:a\"]\n"
        ));
        assert_eq!(
            (e.line, e.message.as_str()),
            (
                12,
                "permission \"write:a\" is not defined on API \"https://a/\""
            )
        );
    }

    const APP: &str = "[[application]]\nname = \"x\"\nclient_id = \"x\"\nclient_secret = \"s\"\n";

    #[test]
    fn client_grants_have_a_subject_type_defaulting_to_client() {
        let tenant = Tenant::from_toml(&format!(
            "{API}{APP}[[application.client_grant]]\naudience = \"https://a/\"\nscope = [\"read:a\"]\n\
             [[application.client_grant]]\naudience = \"https://a/\"\nsubject_type = \"user\"\nscope = []\n"
        ))
        .expect("valid");
        let app = &tenant.applications[0];
        assert_eq!(
            app.grant("https://a/", SubjectType::Client),
            Some(&["read:a".to_owned()][..])
        );
        assert_eq!(app.grant("https://a/", SubjectType::User), Some(&[][..]));
        assert_eq!(app.grant("https://b/", SubjectType::Client), None);
    }

    #[test]
    fn client_grants_are_checked() {
        let grant =
            "[[application.client_grant]]\naudience = \"https://a/\"\nscope = [\"read:a\"]\n";
        let e = error(&format!("{API}{APP}{grant}{grant}"));
        assert_eq!(
            (e.line, e.message.as_str()),
            (
                14,
                "a client grant with subject_type \"client\" for API \"https://a/\" is defined twice"
            )
        );
        let e = error(&format!(
            "{API}{APP}{}",
            grant.replace("scope", "subject_type = \"robot\"\nscope")
        ));
        assert!(e.message.contains("unknown variant"), "{e}");
        // The map form of earlier tenant files is refused with a pointer to the new one.
        let e = error(&format!(
            "{API}{APP}[application.grants]\n\"https://a/\" = [\"read:a\"]\n"
        ));
        assert!(e.message.contains("client_grant"), "{e}");
    }

    #[test]
    fn permissions_must_be_verb_resource() {
        let e = error(
            "[[api]]\nidentifier = \"https://a/\"\nrbac = true\nuser_access_policy = \"allow\"\npermissions = [\"read:a\", \"admin\"]\n",
        );
        assert_eq!((e.line, e.column), (5, 26), "{e}");
        assert!(e.message.contains("verb:resource"), "{e}");
    }

    #[test]
    fn duplicates_policies_and_switches_are_checked() {
        assert!(
            error(&format!("{API}{API}"))
                .message
                .contains("defined twice")
        );
        assert!(
            error(&API.replace("\"allow\"", "\"maybe\""))
                .message
                .contains("unknown variant")
        );
        let e = error(&API.replace(
            "rbac = true",
            "rbac = false\nadd_permissions_in_token = true",
        ));
        assert!(e.message.contains("needs rbac"), "{e}");
    }
}
