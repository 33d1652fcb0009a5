//! GHL-style error responses: `{"statusCode", "message"[, "error"]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error rendered the way GHL renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// A string, or (for validation errors) an array of strings.
    pub message: Value,
    /// The reason phrase GHL adds on some errors (`Unauthorized`, `Unprocessable Entity`, ...).
    pub error: Option<&'static str>,
}

impl ApiError {
    /// 400 Bad Request.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: json!(msg.into()), error: Some("Bad Request") }
    }

    /// 401, as GHL answers a missing or wrong token.
    pub fn unauthorized() -> Self {
        Self { status: StatusCode::UNAUTHORIZED, message: json!("Invalid JWT"), error: None }
    }

    /// 403 for a location the token cannot access.
    pub fn forbidden_location() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: json!("The token does not have access to this location."),
            error: None,
        }
    }

    /// 404 Not Found.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: json!(msg.into()), error: Some("Not Found") }
    }

    /// 422 with class-validator style messages.
    pub fn unprocessable(msgs: &[&str]) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: json!(msgs),
            error: Some("Unprocessable Entity"),
        }
    }

    /// 422 with one message.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: json!([msg.into()]),
            error: Some("Unprocessable Entity"),
        }
    }

    /// 429 Too Many Requests.
    pub fn too_many_requests() -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, message: json!("Too Many Requests"), error: None }
    }

    /// 500 Internal Server Error.
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: json!("Internal server error"),
            error: None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut v = json!({"statusCode": self.status.as_u16(), "message": self.message});
        if let (Some(e), Some(o)) = (self.error, v.as_object_mut()) {
            o.insert("error".into(), json!(e));
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(ApiError::unauthorized().body(), json!({"statusCode": 401, "message": "Invalid JWT"}));
        assert_eq!(
            ApiError::unprocessable(&["pageLimit must be a number"]).body(),
            json!({"statusCode": 422, "message": ["pageLimit must be a number"], "error": "Unprocessable Entity"})
        );
    }
}
