//! Employees as SCIM Users: filters translated to SQL (`filter_sql`), the rows and
//! their managers (`rows`), pages that never skip or repeat — by offset, or after a known
//! id (keyset), which costs the same on the last page as on the first (`pages`) and reads
//! the tenant's own rows only (`crate::keyset`) — and
//! Okta's look-up read with the caller's credentials (`lookup`). What a page is asked
//! for and what comes back is `query`.

mod filter_sql;
mod lookup;
mod pages;
mod query;
mod rows;

pub use lookup::ScimLookup;
pub use query::{PageStart, Resumed, SortDirection, SortKey, UserOrder, UserPage};
