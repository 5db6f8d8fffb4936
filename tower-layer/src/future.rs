//! The response future shared by the auth and scope services.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use scopegate_core::{AuthError, VerifiedToken};
use tower_service::Service;

use crate::context::AuthContext;

type PendingVerification = Pin<Box<dyn Future<Output = Result<VerifiedToken, AuthError>> + Send>>;

pin_project! {
    /// Response future of [`Auth`](crate::Auth) and [`RequireScopesService`](crate::RequireScopesService).
    ///
    /// Allocates only while the issuer's keys are being fetched; otherwise it is the
    /// inner service's future or a ready rejection.
    pub struct ResponseFuture<S, ReqB, ResB>
    where
        S: Service<Request<ReqB>>,
    {
        #[pin]
        state: State<S, ReqB, ResB>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqB, ResB>
    where
        S: Service<Request<ReqB>>,
    {
        Rejected { response: Option<Response<ResB>> },
        Verifying {
            verification: PendingVerification,
            request: Option<Request<ReqB>>,
            inner: Option<S>,
            context: AuthContext<ResB>,
        },
        Inner { #[pin] future: S::Future },
    }
}

impl<S, ReqB, ResB> ResponseFuture<S, ReqB, ResB>
where
    S: Service<Request<ReqB>>,
{
    pub(crate) fn rejected(response: Response<ResB>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn verifying(
        verification: PendingVerification,
        request: Request<ReqB>,
        inner: S,
        context: AuthContext<ResB>,
    ) -> Self {
        Self {
            state: State::Verifying {
                verification,
                request: Some(request),
                inner: Some(inner),
                context,
            },
        }
    }
}

impl<S, ReqB, ResB> Future for ResponseFuture<S, ReqB, ResB>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Send + 'static,
    ResB: 'static,
{
    type Output = Result<Response<ResB>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Rejected { response } => {
                    let response = response.take().expect("polled after completion");
                    return Poll::Ready(Ok(response));
                }
                StateProj::Inner { future } => return future.poll(cx),
                StateProj::Verifying {
                    verification,
                    request,
                    inner,
                    context,
                } => {
                    let verified = ready!(verification.as_mut().poll(cx));
                    let mut request = request.take().expect("polled after completion");
                    let mut inner = inner.take().expect("polled after completion");
                    let next = match verified {
                        Ok(token) => {
                            request.extensions_mut().insert(token);
                            request.extensions_mut().insert(context.clone());
                            State::Inner {
                                future: inner.call(request),
                            }
                        }
                        Err(error) => State::Rejected {
                            response: Some(context.rejection.reject(error, &context.realm)),
                        },
                    };
                    this.state.set(next);
                }
            }
        }
    }
}
