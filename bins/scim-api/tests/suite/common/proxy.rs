//! A TCP proxy between a service and PostgreSQL that a test can cut, restore and slow
//! down, to see what the service does while its database is unreachable or slow —
//! without stopping the PostgreSQL server other tests share. (scim-api's and
//! auth-gateway's fault tests both include this file.)

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The proxy; stops (and closes every connection) when dropped.
pub struct DbProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: SocketAddr,
    /// Cut: open connections were closed, new ones are closed as soon as accepted.
    down: AtomicBool,
    /// Added to everything the server sends, in milliseconds.
    latency_ms: AtomicU64,
    stopped: AtomicBool,
    /// Both ends of every connection made, to close them on a cut.
    open: Mutex<Vec<TcpStream>>,
}

impl DbProxy {
    /// A proxy to the server `database_url` names; returns it and the same URL through it.
    pub fn start(database_url: &str) -> (DbProxy, String) {
        let (scheme, rest) = database_url.split_once("://").expect("a URL");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (format!("{userinfo}@"), host_port),
            None => (String::new(), authority),
        };
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        let upstream = host_port
            .to_socket_addrs()
            .expect("the PostgreSQL server's address")
            .next()
            .expect("the PostgreSQL server's address");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            down: AtomicBool::new(false),
            latency_ms: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || accept(&listener, &accepting));
        let url = format!("{scheme}://{userinfo}{addr}{tail}");
        (DbProxy { addr, shared }, url)
    }

    /// The database becomes unreachable: open connections are closed, new ones are
    /// closed as soon as they are accepted (the server "refuses" them).
    pub fn cut(&self) {
        let mut open = self.shared.open.lock().unwrap();
        self.shared.down.store(true, Ordering::SeqCst);
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// The database is reachable again.
    pub fn restore(&self) {
        let _open = self.shared.open.lock().unwrap();
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// Everything the server sends from now on arrives `latency` later (0: at once).
    pub fn set_latency(&self, latency: Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap();
        self.shared.latency_ms.store(millis, Ordering::SeqCst);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accepting thread so it sees `stopped`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        // Under the lock, so a cut cannot miss a connection being set up.
        let open = shared.open.lock().unwrap();
        if shared.down.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(shared.upstream) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let mut open = open;
        open.push(client.try_clone().unwrap());
        open.push(server.try_clone().unwrap());
        drop(open);
        let (client_in, server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || pump(client_in, server_out, None));
        let delayed = shared.clone();
        std::thread::spawn(move || pump(server, client, Some(delayed)));
    }
}

/// Copies `from` to `to`; with `shared`, each chunk is held back by the latency in force
/// when it arrived (a reader and a writer thread, so latency does not limit throughput).
fn pump(mut from: TcpStream, to: TcpStream, shared: Option<Arc<Shared>>) {
    let (sender, receiver) = mpsc::channel::<(Instant, Vec<u8>)>();
    let mut writer_to = to.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for (due, chunk) in receiver {
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            if writer_to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = writer_to.shutdown(Shutdown::Both);
    });
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let latency = shared
                    .as_ref()
                    .map_or(0, |s| s.latency_ms.load(Ordering::SeqCst));
                let due = Instant::now() + Duration::from_millis(latency);
                if sender.send((due, buffer[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(sender);
    let _ = writer.join();
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
