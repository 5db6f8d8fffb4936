//! The response future of the middleware and the scope middleware.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::Error;
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use pin_project_lite::pin_project;

use crate::swallowed::answer_swallowed;

type Verifying<B> = Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>>>>;

pin_project! {
    /// Response future of [`ScopeGate`](crate::ScopeGate) and
    /// [`RequireScopes`](crate::RequireScopes). Allocates only while the issuer's keys are
    /// being fetched.
    pub struct GateFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] future: F },
        Rejected { response: Option<ServiceResponse<EitherBody<B>>> },
        Verifying { future: Verifying<B> },
    }
}

impl<F, B> GateFuture<F, B> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: ServiceResponse<EitherBody<B>>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn verifying(future: Verifying<B>) -> Self {
        Self {
            state: State::Verifying { future },
        }
    }
}

impl<F, B> Future for GateFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => {
                Poll::Ready(ready!(future.poll(cx)).map(answer_swallowed))
            }
            StateProj::Rejected { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            StateProj::Verifying { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, B> std::fmt::Debug for GateFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateFuture").finish_non_exhaustive()
    }
}
