//! Departments as read, which scim-api serves as SCIM Groups: the summary per department
//! (how many members, when it first had one, when and how often its members last
//! changed) in one read, and its members a page at a time in id order — so listing
//! groups without members reads a handful of rows, and a group of 125,000 members
//! streams in bounded memory. `departments` keeps the summaries in step.
//!
//! A department exists while at least one employee has it. Its id is derived from its
//! name ([`department_id`]), so it is stable for as long as the name is.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use scim_model::{DepartmentRecord, MemberRef};

use crate::clock;
use crate::employees::Employees;
use crate::error::Result;
use crate::ids::TenantId;
use crate::keyset::{BEFORE_EVERY_ID, after_in_department};
use crate::names::{IdAndNames, display_name_of};
use crate::schema::{departments, employees};

/// Departments are served as SCIM Groups; a department's id is derived from its name
/// (a UUID v5 under this namespace), so it is stable for as long as the name is.
const DEPARTMENT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5b1c_2f4e_8d0a_4c61_9e3f_7a52_d8c4_1b06);

/// The SCIM Group id of a department name.
pub fn department_id(name: &str) -> String {
    uuid::Uuid::new_v5(&DEPARTMENT_NAMESPACE, name.as_bytes()).to_string()
}

/// One department, without its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentSummary {
    /// Its SCIM Group id ([`department_id`] of the name).
    pub id: String,
    /// The name.
    pub name: String,
    /// How many employees have it.
    pub members: u64,
    /// When it first had a member.
    pub created: DateTime<Utc>,
    /// When its members last changed.
    pub updated: DateTime<Utc>,
    /// Moves with every change of its members (the Group's ETag).
    pub version: i64,
}

impl DepartmentSummary {
    /// The department as scim-model's record, with `members`.
    pub fn into_record(self, members: Vec<MemberRef>) -> DepartmentRecord {
        DepartmentRecord {
            id: self.id,
            name: self.name,
            members,
            created: self.created,
            updated: self.updated,
            version: self.version,
        }
    }
}

impl Employees<'_> {
    /// The tenant's departments, by name, without their members: one read of the
    /// summary table.
    pub fn department_summaries(&self, tenant: &TenantId) -> Result<Vec<DepartmentSummary>> {
        let rows: Vec<(String, i64, NaiveDateTime, NaiveDateTime, i64)> = departments::table
            .filter(departments::tenant_id.eq(tenant.as_str()))
            .order(departments::name.asc())
            .select((
                departments::name,
                departments::members,
                departments::created_at,
                departments::updated_at,
                departments::version,
            ))
            .load(&mut *self.db.conn()?)?;
        Ok(rows
            .into_iter()
            .map(
                |(name, members, created, updated, version)| DepartmentSummary {
                    id: department_id(&name),
                    name,
                    members: u64::try_from(members).unwrap_or_default(),
                    created: clock::utc(created),
                    updated: clock::utc(updated),
                    version,
                },
            )
            .collect())
    }

    /// Up to `limit` members of the department `name`, in id order, after the id
    /// `after` when given: a page of a member list.
    pub fn department_members(
        &self,
        tenant: &TenantId,
        name: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<MemberRef>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // From the department's range of its index only (see `keyset`).
        let after = after.unwrap_or(BEFORE_EVERY_ID).into_sql::<Text>();
        let rows: Vec<IdAndNames> = employees::table
            .filter(after_in_department(tenant, name, after))
            .order((
                employees::tenant_id.asc(),
                employees::department.asc(),
                employees::id.asc(),
            ))
            .limit(limit)
            .select((
                employees::id,
                employees::display_name,
                employees::given_name,
                employees::family_name,
            ))
            .load(&mut *self.db.conn()?)?;
        Ok(rows
            .into_iter()
            .map(|(id, display, given, family)| MemberRef {
                id,
                display_name: display_name_of(display, given, family),
            })
            .collect())
    }

    /// The tenant's departments with all their members, by name: the summaries, and each
    /// member list read page by page. For callers that need whole documents (a filter on
    /// members); it holds every member in memory.
    pub fn departments(&self, tenant: &TenantId) -> Result<Vec<DepartmentRecord>> {
        const PAGE: u64 = 1_000;
        let mut records = Vec::new();
        for summary in self.department_summaries(tenant)? {
            let mut members: Vec<MemberRef> = Vec::new();
            loop {
                let after = members.last().map(|m| m.id.clone());
                let page =
                    self.department_members(tenant, &summary.name, after.as_deref(), PAGE)?;
                let full = page.len() as u64 == PAGE;
                members.extend(page);
                if !full {
                    break;
                }
            }
            records.push(summary.into_record(members));
        }
        Ok(records)
    }
}
