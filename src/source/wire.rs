//! Which encoding an answer of the API server came in, for reading it
//! (`live/protobuf.rs`) and for the request log.

/// Whether an answer's headers say it is in Kubernetes' protobuf encoding.
pub fn is_protobuf(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/vnd.kubernetes.protobuf"))
}
