//! Which scopes a token gets: Auth0's computation, as one pure function.

use crate::tenant::{Api, Application, SubjectType, Tenant, User, UserAccessPolicy};

/// Who asks for the token.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A user (password grant), through an application.
    User(&'a User),
    /// The application itself (client credentials).
    Machine,
}

/// What a token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The `scope` claim, in the API's permission order.
    pub scopes: Vec<String>,
    /// The `permissions` claim, when the API adds it.
    pub permissions: Option<Vec<String>>,
}

/// Why no token is issued (answered `403 access_denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The API's user access policy is `deny`.
    PolicyDenies,
    /// A machine's application has no `client` client grant for the API.
    NoClientGrant,
}

impl Refusal {
    /// A fixed description.
    pub fn description(self) -> &'static str {
        match self {
            Self::PolicyDenies => "The API's user access policy denies user tokens",
            Self::NoClientGrant => "The application has no client grant for this API",
        }
    }
}

/// The scopes (and permissions) a token for `api`, requested by `subject` through `app`,
/// carries; `requested` is the `scope` parameter (`None`: not sent).
///
/// | RBAC | policy | user token scopes |
/// |---|---|---|
/// | on | allow | user permissions ∩ requested |
/// | off | allow_via_client_grant | app grant ∩ requested |
/// | on | allow_via_client_grant | user permissions ∩ app grant ∩ requested |
/// | off | allow | requested ∩ API permissions |
/// | any | deny | refused |
///
/// "App grant" is the application's client grant for the API of the flow's subject type:
/// `user` for users, `client` for machines. Under `allow_via_client_grant` a user of an
/// application without a `user` grant still gets a token, with no scopes, as Auth0 issues
/// it. Users who request nothing get nothing. Machines get app grant ∩ requested, or the
/// whole grant when nothing is requested, and are refused without a `client` grant.
pub fn grant(
    tenant: &Tenant,
    subject: Subject<'_>,
    app: &Application,
    api: &Api,
    requested: Option<&[&str]>,
) -> Result<Grant, Refusal> {
    let in_api_order = |allowed: &dyn Fn(&str) -> bool| -> Vec<String> {
        api.permissions
            .iter()
            .filter(|p| allowed(p))
            .cloned()
            .collect()
    };
    let was_requested = |p: &str| requested.is_some_and(|r| r.contains(&p));
    match subject {
        Subject::Machine => {
            let ceiling = app
                .grant(&api.identifier, SubjectType::Client)
                .ok_or(Refusal::NoClientGrant)?;
            let scopes = in_api_order(&|p| {
                ceiling.iter().any(|g| g == p) && (requested.is_none() || was_requested(p))
            });
            let permissions = api.add_permissions_in_token.then(|| scopes.clone());
            Ok(Grant {
                scopes,
                permissions,
            })
        }
        Subject::User(user) => {
            // `Some(ceiling)`: the user grant caps the scopes (no grant: nothing passes).
            let via_grant: Option<&[String]> = match api.user_access_policy {
                UserAccessPolicy::Deny => return Err(Refusal::PolicyDenies),
                UserAccessPolicy::Allow => None,
                UserAccessPolicy::AllowViaClientGrant => Some(
                    app.grant(&api.identifier, SubjectType::User)
                        .unwrap_or_default(),
                ),
            };
            let held = tenant.user_permissions(user, &api.identifier);
            let holds = |p: &str| held.iter().any(|h| h == p);
            let granted = |p: &str| via_grant.is_none_or(|g| g.iter().any(|x| x == p));
            let scopes =
                in_api_order(&|p| was_requested(p) && granted(p) && (!api.rbac || holds(p)));
            let permissions = api
                .add_permissions_in_token
                .then(|| in_api_order(&|p| holds(p) && granted(p)));
            Ok(Grant {
                scopes,
                permissions,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::tenant::ClientGrant;

    const API: &str = "https://api.test/";
    const ALL: [&str; 3] = ["read:a", "write:a", "delete:a"];

    /// A tenant with one API configured as given, a user holding `read:a write:a`, and an
    /// application granted `read:a delete:a` for both users and itself (or nothing).
    fn tenant(
        rbac: bool,
        policy: UserAccessPolicy,
        with_grant: bool,
        add_permissions: bool,
    ) -> Tenant {
        let types: &[SubjectType] = if with_grant {
            &[SubjectType::Client, SubjectType::User]
        } else {
            &[]
        };
        tenant_with_grants(rbac, policy, types, add_permissions)
    }

    /// As [`tenant`], with a `read:a delete:a` grant for each subject type in `types`.
    fn tenant_with_grants(
        rbac: bool,
        policy: UserAccessPolicy,
        types: &[SubjectType],
        add_permissions: bool,
    ) -> Tenant {
        let api = Api {
            identifier: API.into(),
            rbac,
            user_access_policy: policy,
            add_permissions_in_token: add_permissions,
            permissions: ALL.iter().map(|s| s.to_string()).collect(),
        };
        let role = crate::tenant::Role {
            name: "r".into(),
            permissions: BTreeMap::from([(
                API.to_owned(),
                vec!["read:a".into(), "write:a".into()],
            )]),
        };
        let client_grants = types
            .iter()
            .map(|&subject_type| ClientGrant {
                audience: API.into(),
                subject_type,
                scope: vec!["read:a".into(), "delete:a".into()],
            })
            .collect();
        Tenant {
            token_lifetime_secs: 60,
            apis: vec![api],
            roles: vec![role],
            users: vec![
                User {
                    username: "u".into(),
                    password: "p".into(),
                    roles: vec!["r".into()],
                },
                User {
                    username: "none".into(),
                    password: "p".into(),
                    roles: vec![],
                },
            ],
            applications: vec![Application {
                name: "a".into(),
                client_id: "a".into(),
                client_secret: "s".into(),
                client_grants,
            }],
        }
    }

    fn run(
        t: &Tenant,
        user: Option<&str>,
        requested: Option<&[&str]>,
    ) -> Result<Vec<String>, Refusal> {
        let subject = match user {
            Some(name) => Subject::User(t.user(name).expect("user")),
            None => Subject::Machine,
        };
        grant(t, subject, &t.applications[0], &t.apis[0], requested).map(|g| g.scopes)
    }

    use UserAccessPolicy::{Allow, AllowViaClientGrant, Deny};

    /// (rbac, policy, app has a grant, requested, expected scopes for user "u").
    type Case = (
        bool,
        UserAccessPolicy,
        bool,
        Option<&'static [&'static str]>,
        Result<Vec<&'static str>, Refusal>,
    );

    #[test]
    fn every_rbac_and_policy_combination() {
        // (rbac, policy, grant?, requested, expected for user "u")
        let cases: Vec<Case> = vec![
            (
                true,
                Allow,
                false,
                Some(&ALL),
                Ok(vec!["read:a", "write:a"]),
            ),
            (true, Allow, false, Some(&["write:a"]), Ok(vec!["write:a"])),
            (
                false,
                AllowViaClientGrant,
                true,
                Some(&ALL),
                Ok(vec!["read:a", "delete:a"]),
            ),
            // No grant for the app: the token is issued, with no scopes.
            (false, AllowViaClientGrant, false, Some(&ALL), Ok(vec![])),
            (
                true,
                AllowViaClientGrant,
                true,
                Some(&ALL),
                Ok(vec!["read:a"]),
            ),
            (true, AllowViaClientGrant, false, Some(&ALL), Ok(vec![])),
            (
                false,
                Allow,
                false,
                Some(&["read:a", "delete:a", "admin:everything"]),
                Ok(vec!["read:a", "delete:a"]),
            ),
            (true, Deny, true, Some(&ALL), Err(Refusal::PolicyDenies)),
            (false, Deny, true, Some(&ALL), Err(Refusal::PolicyDenies)),
            // Nothing requested: nothing granted, in every allowed combination.
            (true, Allow, false, None, Ok(vec![])),
            (false, Allow, false, None, Ok(vec![])),
            (false, AllowViaClientGrant, true, None, Ok(vec![])),
            (true, AllowViaClientGrant, true, None, Ok(vec![])),
        ];
        for (rbac, policy, with_grant, requested, expected) in cases {
            let t = tenant(rbac, policy, with_grant, false);
            let expected = expected.map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(
                run(&t, Some("u"), requested),
                expected,
                "rbac={rbac} {policy:?} grant={with_grant} {requested:?}"
            );
        }
    }

    #[test]
    fn each_flow_uses_the_grant_of_its_subject_type() {
        // Only a `client` grant: machines get it, users through the app get nothing.
        let t = tenant_with_grants(true, AllowViaClientGrant, &[SubjectType::Client], true);
        assert_eq!(
            run(&t, None, None),
            Ok(vec!["read:a".into(), "delete:a".into()])
        );
        let g = grant(
            &t,
            Subject::User(t.user("u").expect("u")),
            &t.applications[0],
            &t.apis[0],
            Some(&ALL),
        );
        assert_eq!(
            g.map(|g| (g.scopes, g.permissions)),
            Ok((vec![], Some(vec![])))
        );
        // Only a `user` grant: users get it, the machine is refused.
        let t = tenant_with_grants(false, AllowViaClientGrant, &[SubjectType::User], false);
        assert_eq!(
            run(&t, Some("u"), Some(&ALL)),
            Ok(vec!["read:a".into(), "delete:a".into()])
        );
        assert_eq!(run(&t, None, None), Err(Refusal::NoClientGrant));
    }

    #[test]
    fn users_without_roles_get_no_scopes_under_rbac() {
        let t = tenant(true, Allow, false, false);
        assert_eq!(run(&t, Some("none"), Some(&ALL)), Ok(vec![]));
        let t = tenant(false, Allow, false, false);
        assert_eq!(
            run(&t, Some("none"), Some(&["read:a"])),
            Ok(vec!["read:a".into()]),
            "without RBAC roles do not matter"
        );
    }

    #[test]
    fn machines_get_their_grant_filtered_by_the_request() {
        for (rbac, policy) in [(true, Allow), (false, AllowViaClientGrant), (true, Deny)] {
            let t = tenant(rbac, policy, true, false);
            assert_eq!(
                run(&t, None, None),
                Ok(vec!["read:a".into(), "delete:a".into()]),
                "whole grant"
            );
            assert_eq!(
                run(&t, None, Some(&["delete:a", "write:a"])),
                Ok(vec!["delete:a".into()])
            );
            let t = tenant(rbac, policy, false, false);
            assert_eq!(run(&t, None, None), Err(Refusal::NoClientGrant));
        }
    }

    #[test]
    fn permissions_claim_lists_held_permissions_bounded_by_the_grant() {
        let t = tenant(true, Allow, false, true);
        let g = grant(
            &t,
            Subject::User(t.user("u").expect("u")),
            &t.applications[0],
            &t.apis[0],
            Some(&["read:a"]),
        )
        .expect("grant");
        assert_eq!(
            (g.scopes, g.permissions),
            (
                vec!["read:a".into()],
                Some(vec!["read:a".into(), "write:a".into()])
            )
        );
        let t = tenant(true, AllowViaClientGrant, true, true);
        let g = grant(
            &t,
            Subject::User(t.user("u").expect("u")),
            &t.applications[0],
            &t.apis[0],
            None,
        )
        .expect("grant");
        assert_eq!(
            (g.scopes, g.permissions),
            (vec![], Some(vec!["read:a".into()]))
        );
        let t = tenant(true, Allow, false, false);
        let g = grant(
            &t,
            Subject::User(t.user("u").expect("u")),
            &t.applications[0],
            &t.apis[0],
            Some(&ALL),
        )
        .expect("grant");
        assert_eq!(g.permissions, None);
    }
}
