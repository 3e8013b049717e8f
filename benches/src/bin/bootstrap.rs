//! nimbus-bench-bootstrap: a no-op Lambda custom runtime (`provided.*`), std only.
//!
//! Loops on the Runtime API at `$AWS_LAMBDA_RUNTIME_API` (`host:port`, optionally
//! followed by a base path): `GET /2018-06-01/runtime/invocation/next`, then
//! `POST /2018-06-01/runtime/invocation/<id>/response` with `null`, over one
//! keep-alive HTTP/1.1 connection (reopened if the server closes it). It is what the
//! `lambda-cold` scenario zips as `bootstrap` for the "compiled binary" cold start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
}

/// Status, the request id header (if any), and whether the server will close.
struct Head {
    status: u16,
    request_id: Option<String>,
    close: bool,
}

impl Conn {
    fn open(host: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(host)?;
        stream.set_nodelay(true)?;
        Ok(Conn { reader: BufReader::new(stream), host: host.to_owned() })
    }

    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Head> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if method == "POST" {
            req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(req.as_bytes())?;
        stream.write_all(body)?;
        self.read_response()
    }

    fn read_response(&mut self) -> std::io::Result<Head> {
        let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let (mut length, mut chunked, mut close, mut request_id) = (0usize, false, false, None);
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(bad("headers cut short"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else { continue };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse().map_err(|_| bad("bad content-length"))?,
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                "lambda-runtime-aws-request-id" => request_id = Some(value.to_owned()),
                _ => {}
            }
        }
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                let mut skip = vec![0u8; size + 2];
                self.reader.read_exact(&mut skip)?;
                if size == 0 {
                    break;
                }
            }
        } else {
            let mut left = length;
            let mut buf = [0u8; 8192];
            while left > 0 {
                let n = self.reader.read(&mut buf[..left.min(8192)])?;
                if n == 0 {
                    return Err(bad("body cut short"));
                }
                left -= n;
            }
        }
        Ok(Head { status, request_id, close })
    }
}

fn main() -> ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("AWS_LAMBDA_RUNTIME_API is not set");
        return ExitCode::FAILURE;
    };
    let (host, base) = match api.find('/') {
        Some(i) => (api[..i].to_owned(), api[i..].trim_end_matches('/').to_owned()),
        None => (api.clone(), String::new()),
    };
    let next_path = format!("{base}/2018-06-01/runtime/invocation/next");
    let mut conn: Option<Conn> = None;
    let mut eofs = 0u32;
    loop {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(&host) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    eprintln!("cannot reach the Runtime API at {host}: {e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let head = match c.request("GET", &next_path, b"") {
            Ok(h) => h,
            Err(e) => {
                // A closed keep-alive connection: reopen once, else give up.
                conn = None;
                eofs += 1;
                if e.kind() == std::io::ErrorKind::UnexpectedEof && eofs < 3 {
                    continue;
                }
                eprintln!("invocation/next: {e}");
                return ExitCode::FAILURE;
            }
        };
        eofs = 0;
        if head.close {
            conn = None;
        }
        let Some(id) = head.request_id.filter(|_| head.status == 200) else {
            eprintln!("invocation/next answered {} without a request id", head.status);
            return ExitCode::FAILURE;
        };
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(&host) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    eprintln!("cannot reach the Runtime API at {host}: {e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        match c.request("POST", &format!("{base}/2018-06-01/runtime/invocation/{id}/response"), b"null") {
            Ok(h) if h.close => conn = None,
            Ok(_) => {}
            Err(e) => {
                eprintln!("invocation/{id}/response: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
}
