//! gRPC answers for an [`AuthError`]: a status code and a trailers-only response.

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use crate::error::AuthError;

/// The gRPC status codes a refusal maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrpcCode {
    /// `UNAUTHENTICATED` (16): credentials missing, malformed or invalid.
    Unauthenticated,
    /// `PERMISSION_DENIED` (7): a valid token without the scope or claim the method needs.
    PermissionDenied,
    /// `UNAVAILABLE` (14): the issuer's keys cannot be obtained.
    Unavailable,
}

impl GrpcCode {
    /// The numeric code sent in `grpc-status`.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Unauthenticated => 16,
            Self::PermissionDenied => 7,
            Self::Unavailable => 14,
        }
    }
}

impl AuthError {
    /// The gRPC status for this refusal: `PERMISSION_DENIED` where HTTP says 403,
    /// `UNAVAILABLE` where it says 503, `UNAUTHENTICATED` otherwise (400 and 401).
    pub fn grpc_code(&self) -> GrpcCode {
        match self.status().as_u16() {
            403 => GrpcCode::PermissionDenied,
            503 => GrpcCode::Unavailable,
            _ => GrpcCode::Unauthenticated,
        }
    }

    /// A gRPC trailers-only response: HTTP 200, `content-type: application/grpc`,
    /// `grpc-status` and `grpc-message` (the fixed [`description`](Self::description)),
    /// and an empty body.
    ///
    /// ```
    /// use scopegate_core::{AuthError, ErrorKind};
    ///
    /// let response: http::Response<String> = AuthError::new(ErrorKind::Expired).to_grpc_response();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["grpc-status"], "16");
    /// assert_eq!(response.headers()["grpc-message"], "The access token expired");
    /// ```
    pub fn to_grpc_response<B: Default>(&self) -> http::Response<B> {
        const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
        const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
        let mut response = http::Response::new(B::default());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(
            GRPC_STATUS,
            HeaderValue::from(u16::from(self.grpc_code().as_u8())),
        );
        // Descriptions are fixed printable ASCII without `%`: valid as they are in the
        // percent-encoded grpc-message (gRPC over HTTP/2, "Responses").
        headers.insert(GRPC_MESSAGE, HeaderValue::from_static(self.description()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn each_status_maps_to_its_grpc_code() {
        let cases = [
            (ErrorKind::MissingCredentials, 16),
            (ErrorKind::InvalidRequest, 16),
            (ErrorKind::InvalidSignature, 16),
            (ErrorKind::InsufficientScope, 7),
            (ErrorKind::ClaimNotGranted, 7),
            (ErrorKind::RouteNotPermitted, 7),
            (ErrorKind::KeysUnavailable, 14),
        ];
        for (kind, code) in cases {
            let response: http::Response<String> = AuthError::new(kind).to_grpc_response();
            assert_eq!(
                response.headers()["grpc-status"],
                code.to_string().as_str(),
                "{kind}"
            );
            assert_eq!(response.headers()["content-type"], "application/grpc");
            assert!(response.body().is_empty());
        }
    }

    #[test]
    fn every_description_is_a_valid_grpc_message() {
        let kinds = [
            ErrorKind::MissingCredentials,
            ErrorKind::InvalidRequest,
            ErrorKind::TokenTooLarge,
            ErrorKind::MalformedToken,
            ErrorKind::DisallowedAlgorithm,
            ErrorKind::CriticalHeader,
            ErrorKind::UnknownKey,
            ErrorKind::KeyMismatch,
            ErrorKind::InvalidSignature,
            ErrorKind::Expired,
            ErrorKind::NotYetValid,
            ErrorKind::IssuedInFuture,
            ErrorKind::TooOld,
            ErrorKind::InvalidIssuer,
            ErrorKind::InvalidAudience,
            ErrorKind::InvalidType,
            ErrorKind::MissingClaim,
            ErrorKind::InvalidClaim,
            ErrorKind::SenderConstrained,
            ErrorKind::ClaimRuleFailed,
            ErrorKind::InsufficientScope,
            ErrorKind::ClaimNotGranted,
            ErrorKind::RouteNotPermitted,
            ErrorKind::KeysUnavailable,
            ErrorKind::InvalidDpopProof,
            ErrorKind::DpopProofReplayed,
        ];
        for kind in kinds {
            let message = kind.description();
            assert!(
                message
                    .bytes()
                    .all(|b| (0x20..=0x7e).contains(&b) && b != b'%'),
                "{kind}: {message}"
            );
        }
    }
}
