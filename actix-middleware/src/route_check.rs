//! The service behind route rules ([`RequireScopes`](crate::RequireScopes),
//! [`RequireClaims`](crate::RequireClaims)): check the verified token, or refuse.

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::{Error, HttpMessage};
use scopegate_core::{RouteCheck, VerifiedToken};

use crate::context::{AuthContext, reject};
use crate::future::GateFuture;

/// The service made by a route rule middleware: passes the request on when the rule `C`
/// holds for its verified token, answers the refusal otherwise.
#[doc(hidden)]
pub struct RouteCheckMiddleware<S, C> {
    service: Rc<S>,
    check: C,
}

impl<S, C> RouteCheckMiddleware<S, C> {
    pub(crate) fn new(service: S, check: C) -> Self {
        Self {
            service: Rc::new(service),
            check,
        }
    }
}

impl<S, C, B> Service<ServiceRequest> for RouteCheckMiddleware<S, C>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    C: RouteCheck,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = GateFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let (decision, context) = {
            let extensions = request.extensions();
            let context = extensions.get::<AuthContext>().cloned();
            let decision = self
                .check
                .authorize(extensions.get::<VerifiedToken>(), context.is_some());
            (decision, context)
        };
        match decision {
            Ok(()) => GateFuture::inner(self.service.call(request)),
            Err(error) => {
                let response = reject(context.as_ref(), error);
                GateFuture::rejected(request.into_response(response).map_into_right_body())
            }
        }
    }
}

impl<S, C: std::fmt::Debug> std::fmt::Debug for RouteCheckMiddleware<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteCheckMiddleware")
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}
