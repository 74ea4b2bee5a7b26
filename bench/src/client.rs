//! The benches' HTTP client: one keep-alive HTTP/1.1 connection through
//! hyper's client (`hyper::client::conn::http1`), driven by a
//! single-threaded runtime of its own. Each bench client is a thread that
//! sends a request and waits for the whole answer, as a blocking client
//! would, so that client and server share the machine's cores as wrk's
//! would.

use std::io;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ETAG, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// A keep-alive HTTP/1.1 connection to `minutebook serve`.
pub struct Connection {
    runtime: tokio::runtime::Runtime,
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

/// What a bench looks at in an answer (its body is read whole and dropped).
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
}

fn io_error(error: impl std::fmt::Display) -> io::Error {
    io::Error::other(error.to_string())
}

impl Connection {
    /// Connects to `addr` (`HOST:PORT`).
    pub fn open(addr: &str) -> io::Result<Connection> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
        let sender = runtime.block_on(async {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(io_error)?;
            // The connection's own task: polled whenever this thread waits
            // for an answer, the only time its socket has work.
            tokio::spawn(connection);
            io::Result::Ok(sender)
        })?;
        Ok(Connection { runtime, sender, host: HeaderValue::from_str(addr).map_err(io_error)? })
    }

    /// Sends `method path` with `headers` and `body`; waits for the whole
    /// answer.
    pub fn request(&mut self, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> io::Result<Answer> {
        let mut request = Request::builder().method(method).uri(path).header(HOST, self.host.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.to_owned()))).map_err(io_error)?;
        let sender = &mut self.sender;
        self.runtime.block_on(async {
            sender.ready().await.map_err(io_error)?;
            let response = sender.send_request(request).await.map_err(io_error)?;
            let status = response.status().as_u16();
            let etag = response.headers().get(ETAG).and_then(|value| value.to_str().ok()).map(str::to_owned);
            response.into_body().collect().await.map_err(io_error)?;
            Ok(Answer { status, etag })
        })
    }

    /// GETs `path` with `headers`.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> io::Result<Answer> {
        self.request(Method::GET, path, headers, "")
    }
}
