//! `-v`: one line on stderr per HTTP request the tool makes (method, path
//! and query, status, time to the response headers) and a total at the end.
//! It wraps the client's whole stack from the outside, so it sees requests
//! before credentials are added and never a header: nothing it prints can
//! hold a token or a key.

use http::{Request, Response};
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

/// Where the lines go and how many requests were made.
#[derive(Clone)]
pub struct RequestLog {
    requests: Arc<AtomicUsize>,
}

/// The start of one read, for its summary.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    requests: usize,
    at: Instant,
}

impl RequestLog {
    pub fn new() -> Self {
        RequestLog {
            requests: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// One line on stderr: what it quotes (a context name, a server's
    /// answer) shown escaped, and URLs without credentials.
    pub fn note(&self, line: impl Display) {
        let line = line.to_string();
        let line = crate::text::urls_for_display(&line);
        eprintln!("storage-doctor: {}", crate::text::terminal(&line));
    }

    /// Where a read starts: the count so far and the time.
    pub fn mark(&self) -> Mark {
        Mark {
            requests: self.requests.load(Ordering::Relaxed),
            at: Instant::now(),
        }
    }

    /// The total of one read, for its end; a connection reused by
    /// `--watch` counts each round on its own.
    pub fn summary_since(&self, mark: Mark) -> String {
        let n = self.requests.load(Ordering::Relaxed) - mark.requests;
        format!(
            "{n} request{} in {} ms",
            if n == 1 { "" } else { "s" },
            mark.at.elapsed().as_millis()
        )
    }
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for RequestLog {
    type Service = Logged<S>;

    fn layer(&self, inner: S) -> Logged<S> {
        Logged {
            inner,
            log: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Logged<S> {
    inner: S,
    log: RequestLog,
}

impl<S, B, R> Service<Request<B>> for Logged<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: AsRef<dyn std::error::Error + Send + Sync>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let n = self.log.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let what = format!(
            "{} {}",
            req.method(),
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        let log = self.log.clone();
        let started = Instant::now();
        let response = self.inner.call(req);
        Box::pin(async move {
            let result = response.await;
            let ms = started.elapsed().as_millis();
            match &result {
                Ok(r) => {
                    // A proxy may turn protobuf away: say which came.
                    let encoding = if super::wire::is_protobuf(r.headers()) {
                        ", protobuf"
                    } else {
                        ""
                    };
                    log.note(format_args!(
                        "#{n} {what} → {} ({ms} ms{encoding})",
                        r.status()
                    ))
                }
                Err(e) => log.note(format_args!(
                    "#{n} {what} → failed: {} ({ms} ms)",
                    super::error_text::safe_error_text(e.as_ref())
                )),
            }
            result
        })
    }
}
