//! The paging of one `/Users` list: where its page starts (a `startIndex` walk resumes
//! where its page before it ended, as this process or the database remembers; a cursor
//! names its position), the count this process already knows, what the page teaches the
//! process's memory, and the cursor of the page after it.

use persistence::{
    Database, PageStart, Resumed, SortDirection, SortKey, Tenant, UserOrder, UserPage,
};
use scim_model::ScimType;

use crate::ScimState;
use crate::cursor::{CursorError, Position, query_fingerprint};
use crate::error::ApiError;
use crate::query::{CheckedQuery, Paging};

/// One list request's paging, for one tenant.
pub struct Pager {
    /// The tenant's id, as the process's memories key it.
    tenant_id: String,
    /// What identifies the query (filter and order) across its pages.
    fingerprint: String,
    order: UserOrder,
    /// Where the page starts, in the database's terms.
    start: PageStart,
    /// The `startIndex` asked for; `None` for cursor paging.
    start_index: Option<u64>,
    /// The page size asked for.
    count: u64,
    /// Seconds since the epoch, for cursors.
    now: i64,
}

impl Pager {
    /// The paging `checked` asks for on `tenant`; a cursor that is not valid for this
    /// query, or has expired, is refused with what to do.
    pub fn new(
        state: &ScimState,
        tenant: &Tenant,
        checked: &CheckedQuery,
    ) -> Result<Self, ApiError> {
        let order = order_of(checked)?;
        let filter_text = checked.filter.as_ref().map(ToString::to_string);
        let sort_text = checked.sort_by.as_ref().map(|(_, text)| text.clone());
        let fingerprint = query_fingerprint(
            filter_text.as_deref(),
            sort_text.as_deref(),
            checked.descending,
        );
        let tenant_id = tenant.id.to_string();
        let now = chrono::Utc::now().timestamp();
        let (start, start_index) = match &checked.paging {
            Paging::Index(start_index) => {
                let remembered = state.positions.get(&tenant_id, &fingerprint, *start_index);
                let start = PageStart::Index {
                    start_index: *start_index,
                    walk: fingerprint.clone(),
                    known_after: remembered.after_id,
                    went_elsewhere: remembered.went_elsewhere,
                };
                (start, Some(*start_index))
            }
            Paging::Cursor(None) => (PageStart::Offset(0), None),
            Paging::Cursor(Some(cursor)) => {
                let position = state
                    .cursors
                    .decode(cursor, &tenant_id, &fingerprint, now)
                    .map_err(cursor_refused)?;
                let start = match position {
                    Position::AfterId(id) => PageStart::AfterId(id),
                    Position::Offset(offset) => PageStart::Offset(offset),
                };
                (start, None)
            }
        };
        Ok(Self {
            tenant_id,
            fingerprint,
            order,
            start,
            start_index,
            count: checked.count,
            now,
        })
    }

    /// The page: `looked_up` when the caller's credentials brought it, else read from
    /// `db` (blocking). What it teaches is remembered — its count, and where the walk's
    /// next page starts.
    pub fn read(
        &self,
        state: &ScimState,
        db: &Database,
        tenant: &Tenant,
        checked: &CheckedQuery,
        looked_up: Option<UserPage>,
    ) -> Result<UserPage, ApiError> {
        let version = tenant.directory_version;
        let page = match looked_up {
            Some(page) => page,
            None => {
                let known_total = state
                    .totals
                    .get(&self.tenant_id, &self.fingerprint, version);
                db.employees().scim_users(
                    &tenant.id,
                    checked.filter.as_ref().map(|f| f.expr()),
                    self.order,
                    &self.start,
                    self.count,
                    known_total,
                )?
            }
        };
        if page.counted {
            state
                .totals
                .remember(&self.tenant_id, &self.fingerprint, version, page.total);
        }
        if let Some((next_index, after)) = page.next.clone() {
            let step = crate::positions::WalkStep {
                first: self.start_index == Some(1),
                from_database: page.resumed == Resumed::FromDatabase,
                followed_elsewhere: page.followed_elsewhere,
            };
            state
                .positions
                .remember(&self.tenant_id, &self.fingerprint, next_index, after, &step);
        }
        Ok(page)
    }

    /// The `startIndex` asked for; `None` for cursor paging.
    pub fn start_index(&self) -> Option<u64> {
        self.start_index
    }

    /// How a `startIndex` page past the first started, for the counters.
    pub fn resumed_label(&self, page: &UserPage) -> Option<&'static str> {
        self.start_index.filter(|index| *index > 1)?;
        Some(match page.resumed {
            Resumed::No => "offset",
            Resumed::FromCaller => "memory",
            Resumed::FromDatabase => "database",
        })
    }

    /// The cursor of the page after `page`: only in cursor paging, and only after a full
    /// page (a page that is not full ends the results).
    pub fn next_cursor(&self, state: &ScimState, page: &UserPage) -> Option<String> {
        if self.start_index.is_some() {
            return None;
        }
        let served = page.users.len() as u64;
        if served != self.count || served == 0 {
            return None;
        }
        let position = match (&self.start, self.order) {
            (_, UserOrder::Id) => page.users.last().map(|u| Position::AfterId(u.id.clone()))?,
            (PageStart::Offset(offset), _) => Position::Offset(offset + served),
            (PageStart::AfterId(_) | PageStart::Index { .. }, _) => return None,
        };
        Some(
            state
                .cursors
                .encode(&self.tenant_id, &self.fingerprint, position, self.now),
        )
    }
}

fn order_of(checked: &CheckedQuery) -> Result<UserOrder, ApiError> {
    let direction = if checked.descending {
        SortDirection::Descending
    } else {
        SortDirection::Ascending
    };
    match &checked.sort_by {
        // Without sortBy, sortOrder has nothing to order (RFC 7644 §3.4.2.3).
        None => Ok(UserOrder::Id),
        Some((attr, _)) => {
            let key = SortKey::of(attr)
                .map_err(|e| ApiError::bad_request(ScimType::InvalidPath, e.to_string()))?;
            Ok(UserOrder::By(key, direction))
        }
    }
}

fn cursor_refused(error: CursorError) -> ApiError {
    match error {
        CursorError::Invalid => ApiError::bad_request(
            ScimType::InvalidCursor,
            "the cursor is not valid for this query: start again without a cursor (or with an \
             empty one) and follow nextCursor",
        ),
        CursorError::Expired => ApiError::bad_request(
            ScimType::ExpiredCursor,
            "the cursor has expired: start again without a cursor and follow nextCursor",
        ),
    }
}
