//! A scripted HTTP server on 127.0.0.1 for the tests and the fuzz target of `doctor`:
//! it answers each request with the bytes its script returns for it (any bytes: a
//! malformed status line, a control byte in a header, a header of a megabyte), and
//! keeps every request it saw, so that a test can tell what doctor sent, and where.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The port of the server that got it.
    pub port: u16,
    pub method: String,
    /// The request target: `/v2/`, `/token?service=...`.
    pub path: String,
    /// `(name lowercased, value)`, in order.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What answers a request: its port and the request, in; the response's bytes, out.
pub type Script = dyn Fn(u16, &Seen) -> Vec<u8> + Send + Sync;

/// A running server; it stops when dropped.
pub struct Server {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// A plain-HTTP server answering with `script`.
    pub fn start(script: Arc<Script>) -> std::io::Result<Server> {
        Self::start_with(script, None)
    }

    /// A server speaking TLS with `tls` (a certificate the test made), or plain HTTP.
    pub fn start_with(
        script: Arc<Script>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (script, log, tls) = (script.clone(), log.clone(), tls.clone());
                std::thread::spawn(move || serve(stream, port, &*script, &log, tls));
            }
        });
        Ok(Server { port, seen, stop })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Every request seen so far, in the order they came.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up, so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One connection: one request read (its head, up to 64 KiB), recorded, answered.
fn serve(
    stream: TcpStream,
    port: u16,
    script: &Script,
    log: &Mutex<Vec<Seen>>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    match tls.and_then(|c| rustls::ServerConnection::new(c).ok()) {
        Some(conn) => {
            let mut s = rustls::StreamOwned::new(conn, stream);
            exchange(&mut s, port, script, log);
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        None => {
            let mut s = stream;
            exchange(&mut s, port, script, log);
        }
    }
}

fn exchange(s: &mut impl ReadWrite, port: u16, script: &Script, log: &Mutex<Vec<Seen>>) {
    let Some(seen) = read_head(s, port) else {
        return;
    };
    if let Ok(mut l) = log.lock() {
        l.push(seen.clone());
    }
    let _ = s.write_all(&script(port, &seen));
    let _ = s.flush();
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn read_head(s: &mut impl Read, port: u16) -> Option<Seen> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 << 10 {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    Some(Seen {
        port,
        method,
        path,
        headers,
    })
}

/// A response: `status` line text (`401 Unauthorized`), headers as written, `body`.
pub fn response(status: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}
