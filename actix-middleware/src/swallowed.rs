//! Refusals that actix-web's `Option<T>` extractor turns into `None`.
//!
//! actix-web gives a handler taking `Option<Claims<T>>` a `None` whenever `Claims<T>`
//! fails, so a token whose claims do not fit `T` would look anonymous. The extractor
//! therefore records each refusal in the request; when the handler returns, the
//! middleware answers a recorded refusal that no response has answered yet.

use std::cell::Cell;
use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use scopegate_core::AuthError;

use crate::context::{AuthContext, reject};

/// A refusal of the `Claims` extractor; `answered` is set once a response carries it.
#[derive(Clone)]
pub(crate) struct RecordedRefusal {
    pub(crate) error: AuthError,
    pub(crate) answered: Rc<Cell<bool>>,
}

/// The handler's response, or the refusal of a `Claims` extraction it never answered.
pub(crate) fn answer_swallowed<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let refusal = response
        .request()
        .extensions()
        .get::<RecordedRefusal>()
        .filter(|refusal| !refusal.answered.get())
        .cloned();
    let Some(refusal) = refusal else {
        return response.map_into_left_body();
    };
    refusal.answered.set(true);
    let context = response
        .request()
        .extensions()
        .get::<AuthContext>()
        .cloned();
    let (request, _) = response.into_parts();
    ServiceResponse::new(request, reject(context.as_ref(), refusal.error)).map_into_right_body()
}
