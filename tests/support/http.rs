//! Small HTTP/1.1 servers on loopback that play an API server: each
//! connection is served on a thread of its own, requests are read by line
//! (the tool's requests carry no body) and answers are written whole.

use std::io::{BufRead, Read};
use std::net::{TcpListener, TcpStream};

/// A request line and its headers.
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Name and value of each header, in the order sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of the first header called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Starts a server on a free loopback port that hands each connection to
/// `serve` on a thread of its own; returns the port. The server lives as
/// long as the test process.
pub fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = std::sync::Arc::new(serve);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
    port
}

/// A loopback port that nothing listens on: connections are refused at once.
pub fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads the next request of a connection; `None` when the client closed it.
pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Some(Request {
        method,
        path,
        headers,
    })
}

/// An answer with a JSON body and `headers` besides its type and length.
pub fn response(code: u16, reason: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(body);
    head.into_bytes()
}

/// The body of an API server's Status answer.
pub fn status_body(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    })
    .to_string()
}

/// Holds a connection without answering until the client gives up on it.
pub fn stall(mut from: impl Read) {
    while matches!(from.read(&mut [0; 512]), Ok(n) if n > 0) {}
}
