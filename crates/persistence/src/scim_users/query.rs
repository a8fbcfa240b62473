//! What a page of SCIM users is asked for and what comes back: the order, where the page
//! starts, and the page with its count and where the next one starts.

use scim_model::EmployeeRecord;

/// How to order a page of users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrder {
    /// By id: the default, stable, and the one keyset paging follows.
    #[default]
    Id,
    /// By an attribute (`sortBy`), then by id; absent values last.
    By(SortKey, SortDirection),
}

/// The attributes users can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `userName` / `emails.value` (case-insensitive).
    UserName,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// `displayName`.
    DisplayName,
    /// `title`.
    Title,
    /// enterprise `department`.
    Department,
    /// enterprise `employeeNumber`.
    EmployeeNumber,
    /// `meta.created`.
    Created,
    /// `meta.lastModified`.
    LastModified,
    /// `active`.
    Active,
    /// `externalId`.
    ExternalId,
}

/// `ascending` or `descending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first (the SCIM default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// Skip this many matching users (`startIndex - 1`).
    Offset(u64),
    /// The users after this id, in id order (only with [`UserOrder::Id`]).
    AfterId(String),
    /// The page at this 1-based `startIndex` of a walk in id order (`walk` names the
    /// query: filter and order). It continues where the page before it ended: from
    /// `known_after` when the caller remembers that (the same process served the page
    /// before), else from where any replica's page before it ended a little earlier (see
    /// `scim_positions`), else by skipping. In another order, the same as `Offset`.
    ///
    /// Where the next page starts is written to the database for whichever replica
    /// serves it — unless the caller remembered this page's start: then the walk stays
    /// with the caller, whose own memory serves the next page, and the database's
    /// position is moved on only if the walk went on elsewhere in between
    /// (`went_elsewhere`).
    Index {
        /// The 1-based index of the page's first user.
        start_index: u64,
        /// What identifies the walk's query.
        walk: String,
        /// The id the page starts after, as the caller remembers it.
        known_after: Option<String>,
        /// Whether the walk moved forward on other replicas since the last page of it the
        /// caller served: the caller's position for this page (from an earlier walk) is
        /// still right, but the database must hear where the walk goes next.
        went_elsewhere: bool,
    },
}

/// Where a `startIndex` page started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// By skipping rows (OFFSET): the first page, or nobody remembered this one.
    No,
    /// From the position the caller remembered.
    FromCaller,
    /// From the position the database kept (another replica, or this one before a
    /// restart, served the page before).
    FromDatabase,
}

/// One page of a user query.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// How many users match the filter in all.
    pub total: u64,
    /// Whether `total` was counted (rather than given, or told by a page that ends the
    /// results): worth remembering.
    pub counted: bool,
    /// Where a `startIndex` page started.
    pub resumed: Resumed,
    /// Where the next page of a `startIndex` walk starts — its `startIndex` and the id
    /// it starts after — when this page was full: for the caller to remember.
    pub next: Option<(u64, String)>,
    /// For a page the caller remembered after the walk went elsewhere
    /// (`went_elsewhere`): whether the database's position was this page's and now
    /// points at the next — the walk goes through other replicas. `Some(false)`: no
    /// replica is walking it through the database, so the caller need not try again.
    pub followed_elsewhere: Option<bool>,
    /// The page, in order.
    pub users: Vec<EmployeeRecord>,
}
