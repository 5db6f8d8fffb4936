//! The service behind route rules ([`RequireScopes`](crate::RequireScopes),
//! [`RequireClaims`](crate::RequireClaims)): check the verified token, or refuse.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use scopegate_core::{RouteCheck, VerifiedToken};
use tower_service::Service;

use crate::context::{AuthContext, reject};
use crate::future::ResponseFuture;

/// The service made by a route rule layer: passes the request on when the rule `C`
/// holds for its verified token, answers the refusal otherwise.
#[derive(Debug)]
pub struct RouteCheckService<S, C> {
    inner: S,
    check: Arc<C>,
}

impl<S, C> RouteCheckService<S, C> {
    pub(crate) fn new(inner: S, check: C) -> Self {
        Self {
            inner,
            check: Arc::new(check),
        }
    }
}

impl<S: Clone, C> Clone for RouteCheckService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            check: Arc::clone(&self.check),
        }
    }
}

impl<S, C, ReqB, ResB> Service<Request<ReqB>> for RouteCheckService<S, C>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    C: RouteCheck,
    ReqB: Send + 'static,
    ResB: From<String> + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let extensions = request.extensions();
        let context = extensions.get::<AuthContext<ResB>>();
        match self
            .check
            .authorize(extensions.get::<VerifiedToken>(), context.is_some())
        {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(error) => ResponseFuture::rejected(reject(context, error)),
        }
    }
}
