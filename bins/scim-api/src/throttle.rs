//! Throttling of failed bearer-token attempts, per client address and per workspace.
//!
//! Tokens carry 256 random bits, so guessing one is hopeless; what the limits are for is
//! shedding the load of a misconfigured connector or a script that keeps knocking, and
//! telling it clearly what to do (429, `Retry-After`, a detail naming the fix).
//!
//! Only failures count (a missing, malformed, unknown or revoked token, or a workspace
//! that does not exist); a request with a valid token never adds to a count. Each key —
//! the client address, and the workspace the `Host` names — has a fixed window that
//! starts at its first failure; once it holds the limit's number of failures:
//!
//! - **A request that cannot be valid** (no token, or one that is not a well-formed
//!   Spark token: its prefix, length and checksum are checked without the database) is
//!   refused with 429 before any database work. That is what sheds the load of a
//!   knocking script.
//! - **A well-formed token is always verified**, by one indexed lookup, whatever the
//!   limits say: a valid one passes — another workspace's connector sharing the address
//!   (Okta's connectors for many customers come from the same egress addresses; offices
//!   sit behind NAT), or a token minted a minute ago, which no process has seen yet —
//!   and only a failing one is answered 429 instead of 401. Refusing unverified tokens
//!   would let anyone who shares an address with a tenant, or knows a workspace's name,
//!   lock that tenant's real connector out for as long as they keep trying; rejecting a
//!   well-formed stranger costs one primary-key read (docs/benchmarks.md has the figure).
//!
//! Memory is bounded: each map is split into [`SHARDS`] shards under their own mutex (a
//! lookup holds one briefly), and a shard that reaches its share of the cap first forgets
//! windows that expired or have not reached the limit, then the oldest — so random
//! addresses or host names cannot grow it. IPv6 addresses count per /64, the block one
//! subscriber usually holds. The windows are per process: with several replicas a source
//! gets up to that many times the limit, which only changes how soon it sees 429.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many independently locked parts each map has.
pub const SHARDS: usize = 64;
/// The most client addresses whose failures are remembered at once.
pub const MAX_ADDRESSES: usize = 65_536;
/// The most workspace names whose failures are remembered at once.
pub const MAX_WORKSPACES: usize = 65_536;

/// The key of workspace-host names that are not workspace names at all: they share one
/// window (no tenant can be behind them), so they cannot fill the map either.
const NOT_A_WORKSPACE: &str = "*";

/// The limits, from configuration (`security.auth_failures_*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures per client address per window; 0 for no limit.
    pub per_address: u32,
    /// Failures per workspace per window; 0 for no limit.
    pub per_workspace: u32,
    /// The window both count over.
    pub window: Duration,
}

impl Limits {
    /// The limits configured in `settings`.
    pub fn from_settings(settings: &settings::Settings) -> Self {
        Limits {
            per_address: settings.security.auth_failures_per_address,
            per_workspace: settings.security.auth_failures_per_workspace,
            window: Duration::from_secs(settings.security.auth_failure_window_secs.max(1)),
        }
    }
}

/// Where the throttle reads the time: the system's monotonic clock, or — for tests that
/// wait out a window — one that moves only when told to.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<Instant>>>);

impl Clock {
    /// The system's monotonic clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands still until [`advance`](Self::advance)d.
    pub fn manual() -> Self {
        Clock(Some(Arc::new(Mutex::new(Instant::now()))))
    }

    /// Moves a manual clock on (the system clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.0 {
            let mut now = now.lock().unwrap_or_else(PoisonError::into_inner);
            *now += by;
        }
    }

    /// The time now.
    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// The throttle: failure windows per address and per workspace, on its [`Clock`].
/// Methods take `now`, so unit tests drive time directly.
pub struct AuthThrottle {
    addresses: Windows<IpAddr>,
    workspaces: Windows<String>,
    clock: Clock,
}

impl AuthThrottle {
    /// An empty throttle with these limits, on the system clock.
    #[cfg(test)]
    fn new(limits: Limits) -> Self {
        Self::with_clock(limits, Clock::system())
    }

    /// An empty throttle with these limits, on `clock`.
    pub fn with_clock(limits: Limits, clock: Clock) -> Self {
        AuthThrottle {
            clock,
            addresses: Windows::new(MAX_ADDRESSES, limits.per_address, limits.window),
            workspaces: Windows::new(MAX_WORKSPACES, limits.per_workspace, limits.window),
        }
    }

    /// The time on the throttle's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// How long until `address` may fail again, when it has used up its failures.
    pub fn address_blocked(&self, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        self.addresses.blocked(&address_key(address?), now)
    }

    /// How long until `workspace` may see failures again, when it has used them up.
    pub fn workspace_blocked(&self, workspace: Option<&str>, now: Instant) -> Option<Duration> {
        self.workspaces.blocked(&workspace_key(workspace?), now)
    }

    /// How long until a request that cannot be valid may be refused with 401 again,
    /// when its address or its workspace has used up its failures.
    pub fn blocked(
        &self,
        address: Option<IpAddr>,
        workspace: Option<&str>,
        now: Instant,
    ) -> Option<Duration> {
        self.address_blocked(address, now)
            .or_else(|| self.workspace_blocked(workspace, now))
    }

    /// Records one failed attempt against the address and the workspace. When either had
    /// already used up its failures, returns how long until both may fail again: the
    /// attempt is answered 429 rather than 401.
    pub fn record_failure(
        &self,
        address: Option<IpAddr>,
        workspace: Option<&str>,
        now: Instant,
    ) -> Option<Duration> {
        let by_address = address.and_then(|a| self.addresses.record(address_key(a), now));
        let by_workspace = workspace.and_then(|w| self.workspaces.record(workspace_key(w), now));
        match (by_address, by_workspace) {
            (Some(a), Some(w)) => Some(a.max(w)),
            (a, w) => a.or(w),
        }
    }

    /// How many addresses and workspaces have a window remembered.
    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        (self.addresses.len(), self.workspaces.len())
    }
}

/// The client address the request counts against: the TCP peer's, unless
/// `trusted_proxy_hops` proxies in front of the service append to `X-Forwarded-For`;
/// then the address that many entries from the right (the one the outermost trusted
/// proxy saw). When the header has fewer entries, or that one is not an address, the
/// peer's address is used: a trusted proxy always appends, so the request did not come
/// through all of them.
pub fn client_address<'h>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'h str>,
    trusted_proxy_hops: u32,
) -> Option<IpAddr> {
    let hops = usize::try_from(trusted_proxy_hops).unwrap_or(usize::MAX);
    if hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let forwarded = entries
        .len()
        .checked_sub(hops)
        .and_then(|index| entries.get(index))
        .and_then(|entry| parse_address(entry));
    forwarded.or(peer)
}

/// `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443` or `203.0.113.7:443`.
fn parse_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// IPv4 as is (also when mapped into IPv6); IPv6 by its /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// A workspace name as persistence spells it (lower case), or the shared key of names
/// that cannot be workspaces — so the key is short whatever the `Host` header holds.
fn workspace_key(workspace: &str) -> String {
    persistence::Workspace::parse(workspace)
        .map(|w| w.as_str().to_owned())
        .unwrap_or_else(|_| NOT_A_WORKSPACE.to_owned())
}

/// Failures of one key in its current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn is_current(&self, now: Instant, length: Duration) -> bool {
        now.saturating_duration_since(self.started) < length
    }

    /// Time left in the window, at least a second (what `Retry-After` can say).
    fn remaining(&self, now: Instant, length: Duration) -> Duration {
        length
            .saturating_sub(now.saturating_duration_since(self.started))
            .max(Duration::from_secs(1))
    }
}

/// Fixed windows of failures per key, in shards, at most `capacity` keys in all.
struct Windows<K> {
    shards: Vec<Mutex<HashMap<K, Window>>>,
    hasher: RandomState,
    per_shard: usize,
    limit: u32,
    length: Duration,
}

impl<K: Eq + Hash + Clone> Windows<K> {
    fn new(capacity: usize, limit: u32, length: Duration) -> Self {
        Windows {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            limit,
            length,
        }
    }

    fn shard(&self, key: &K) -> Option<std::sync::MutexGuard<'_, HashMap<K, Window>>> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).ok()?;
        let shard = self.shards.get(index)?;
        Some(shard.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Time left when `key` has used up its failures in its current window.
    fn blocked(&self, key: &K, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let shard = self.shard(key)?;
        let window = shard.get(key)?;
        (window.is_current(now, self.length) && window.failures >= self.limit)
            .then(|| window.remaining(now, self.length))
    }

    /// Counts a failure; returns the time left when the key had already used up its
    /// failures before this one.
    fn record(&self, key: K, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let (limit, length) = (self.limit, self.length);
        let mut shard = self.shard(&key)?;
        if !shard.contains_key(&key) && shard.len() >= self.per_shard {
            make_room(&mut shard, self.per_shard, limit, length, now);
        }
        let window = shard.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if !window.is_current(now, length) {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        let was_blocked = window.failures >= limit;
        window.failures = window.failures.saturating_add(1);
        was_blocked.then(|| window.remaining(now, length))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// Frees a slot in a full shard: windows that expired or are below the limit go first
/// (forgetting them costs nothing but a fresh count); if every one is a blocked key, the
/// one whose window ends soonest.
fn make_room<K: Eq + Hash + Clone>(
    shard: &mut HashMap<K, Window>,
    room: usize,
    limit: u32,
    length: Duration,
    now: Instant,
) {
    shard.retain(|_, w| w.is_current(now, length) && w.failures >= limit);
    if shard.len() < room {
        return;
    }
    let oldest = shard
        .iter()
        .min_by_key(|(_, w)| w.started)
        .map(|(key, _)| key.clone());
    if let Some(oldest) = oldest {
        shard.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn limits(per_address: u32, per_workspace: u32) -> Limits {
        Limits {
            per_address,
            per_workspace,
            window: Duration::from_secs(60),
        }
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, last)))
    }

    #[test]
    fn an_address_is_blocked_after_its_limit_until_the_window_ends() {
        let throttle = AuthThrottle::new(limits(3, 100));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.address_blocked(ip(1), t0), None);
            assert_eq!(throttle.record_failure(ip(1), Some("acme"), t0), None);
        }
        let later = t0 + Duration::from_secs(20);
        assert_eq!(
            throttle.address_blocked(ip(1), later),
            Some(Duration::from_secs(40))
        );
        assert_eq!(throttle.address_blocked(ip(2), later), None, "per address");
        assert_eq!(
            throttle.record_failure(ip(1), Some("acme"), later),
            Some(Duration::from_secs(40))
        );
        let next_window = t0 + Duration::from_secs(60);
        assert_eq!(throttle.address_blocked(ip(1), next_window), None);
        assert_eq!(throttle.record_failure(ip(1), None, next_window), None);
    }

    #[test]
    fn a_workspace_is_counted_across_addresses() {
        let throttle = AuthThrottle::new(limits(100, 4));
        let now = Instant::now();
        for last in 0..4 {
            assert_eq!(throttle.record_failure(ip(last), Some("Acme"), now), None);
        }
        assert!(throttle.workspace_blocked(Some("acme"), now).is_some());
        assert!(throttle.workspace_blocked(Some("globex"), now).is_none());
        assert!(throttle.record_failure(ip(9), Some("acme"), now).is_some());
        assert!(throttle.address_blocked(ip(9), now).is_none());
    }

    #[test]
    fn a_limit_of_zero_is_no_limit() {
        let throttle = AuthThrottle::new(limits(0, 0));
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.record_failure(ip(1), Some("acme"), now), None);
        }
        assert_eq!(throttle.tracked(), (0, 0));
    }

    #[test]
    fn random_addresses_and_hosts_cannot_grow_the_maps_and_blocked_keys_stay_blocked() {
        let throttle = AuthThrottle::new(limits(2, 2));
        let now = Instant::now();
        for _ in 0..2 {
            throttle.record_failure(ip(1), Some("acme"), now);
        }
        for n in 0..300_000u32 {
            let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
            let workspace = format!("w{n}");
            throttle.record_failure(Some(address), Some(&workspace), now);
        }
        let (addresses, workspaces) = throttle.tracked();
        assert!(addresses <= MAX_ADDRESSES, "{addresses}");
        assert!(workspaces <= MAX_WORKSPACES, "{workspaces}");
        // Each flood key failed once (below the limit), so they were forgotten first.
        assert!(throttle.address_blocked(ip(1), now).is_some());
        assert!(throttle.workspace_blocked(Some("acme"), now).is_some());
    }

    #[test]
    fn host_names_that_are_no_workspace_share_one_key() {
        let throttle = AuthThrottle::new(limits(100, 2));
        let now = Instant::now();
        let long = "x".repeat(10_000);
        throttle.record_failure(None, Some(&long), now);
        throttle.record_failure(None, Some("not_a_workspace!"), now);
        assert_eq!(throttle.tracked(), (0, 1));
        assert!(throttle.workspace_blocked(Some("%%"), now).is_some());
        assert!(throttle.workspace_blocked(Some("acme"), now).is_none());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let throttle = AuthThrottle::new(limits(2, 100));
        let now = Instant::now();
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        throttle.record_failure(Some(a.into()), None, now);
        throttle.record_failure(Some(b.into()), None, now);
        assert!(throttle.address_blocked(Some(a.into()), now).is_some());
        assert!(throttle.address_blocked(Some(other.into()), now).is_none());
        let mapped: Ipv6Addr = "::ffff:203.0.113.1".parse().unwrap();
        throttle.record_failure(ip(1), None, now);
        throttle.record_failure(ip(1), None, now);
        assert!(throttle.address_blocked(Some(mapped.into()), now).is_some());
    }

    #[test]
    fn the_client_address_is_the_peer_unless_proxies_are_trusted() {
        let peer = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)));
        let header = ["198.51.100.1, 203.0.113.9"];
        assert_eq!(client_address(peer, header.into_iter(), 0), peer);
        assert_eq!(
            client_address(peer, header.into_iter(), 1),
            ip(9),
            "the entry the trusted proxy appended"
        );
        assert_eq!(
            client_address(peer, header.into_iter(), 2),
            Some("198.51.100.1".parse().unwrap())
        );
        assert_eq!(client_address(peer, header.into_iter(), 3), peer, "too few");
        assert_eq!(
            client_address(peer, ["198.51.100.1", "203.0.113.9:443"].into_iter(), 1),
            ip(9),
            "several header lines; a port"
        );
        assert_eq!(
            client_address(peer, ["[2001:db8::1]:443"].into_iter(), 1),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(client_address(peer, ["unknown"].into_iter(), 1), peer);
        assert_eq!(client_address(peer, std::iter::empty(), 1), peer);
    }
}
