//! A scrape target that serves a sequence number that grows by one per scrape,
//! and remembers which numbers it served. A gate makes it answer 503 instead,
//! and records that a request arrived while closed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The running target.
pub struct SeqTarget {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    served: Arc<Mutex<Vec<u64>>>,
    open: Arc<AtomicBool>,
    gated_requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SeqTarget {
    /// Starts serving `test_seq N` on a free port, N from 1.
    pub fn start() -> SeqTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local addr").to_string();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let served = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(AtomicBool::new(true));
        let gated_requests = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, o, g, st) = (
            served.clone(),
            open.clone(),
            gated_requests.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let mut next = 1u64;
            while !st.load(Ordering::SeqCst) {
                let (mut conn, _) = match listener.accept() {
                    Ok(c) => c,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => continue,
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                // Read the request head; scrapes are GETs without a body.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let resp = if o.load(Ordering::SeqCst) {
                    let body = format!(
                        "# HELP test_seq Scrape sequence number.\n# TYPE test_seq gauge\ntest_seq {next}\n"
                    );
                    // Record before answering: a number counts as served once it is on the wire.
                    s.lock().unwrap_or_else(|e| e.into_inner()).push(next);
                    next += 1;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    g.fetch_add(1, Ordering::SeqCst);
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = conn.write_all(resp.as_bytes());
            }
        });
        SeqTarget {
            addr,
            served,
            open,
            gated_requests,
            stop,
        }
    }

    /// Numbers served so far.
    pub fn served(&self) -> Vec<u64> {
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Closes (503 from now on) or opens the gate.
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }

    /// Requests that arrived while the gate was closed.
    pub fn gated_requests(&self) -> u64 {
        self.gated_requests.load(Ordering::SeqCst)
    }
}

impl Drop for SeqTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
