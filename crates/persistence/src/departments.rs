//! Departments, which scim-api serves as SCIM Groups: a summary per department (how many
//! members, when it first had one, when and how often its members last changed) kept in
//! step with the employees in the same transaction as each change, and its members read
//! a page at a time in id order — so listing groups without members reads a handful of
//! rows, and a group of 125,000 members streams in bounded memory.
//!
//! A department exists while at least one employee has it. Its id is derived from its
//! name ([`department_id`]), so it is stable for as long as the name is.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use scim_model::{DepartmentRecord, MemberRef};

use crate::clock;
use crate::connection::{DbConnection, on_own_connection};
use crate::employees::{EmployeeRow, Employees};
use crate::error::Result;
use crate::schema::{departments, employees};
use crate::scim_users::display_name_of;
use crate::tenants::TenantId;

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
        let mine = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .filter(employees::department.eq(name));
        let select = (
            employees::id,
            employees::display_name,
            employees::given_name,
            employees::family_name,
        );
        let conn = &mut *self.db.conn()?;
        let rows: Vec<crate::scim_users::IdAndNames> = match after {
            Some(after) => mine
                .filter(employees::id.gt(after))
                .order(employees::id.asc())
                .limit(limit)
                .select(select)
                .load(conn)?,
            None => mine
                .order(employees::id.asc())
                .limit(limit)
                .select(select)
                .load(conn)?,
        };
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

/// What a change of employees does to their departments: members in and out per
/// department, and which departments' member lists changed at all.
#[derive(Debug, Default)]
pub(crate) struct DepartmentChanges {
    /// Department name → change in its member count, for every department whose
    /// members changed (a renamed member changes it by 0).
    by_name: BTreeMap<String, i64>,
}

fn department_of(row: &EmployeeRow) -> Option<&str> {
    row.department.as_deref().filter(|d| !d.is_empty())
}

impl DepartmentChanges {
    /// Notes an employee as `before` (none for a new one) and `after` a change.
    pub(crate) fn employee(&mut self, before: Option<&EmployeeRow>, after: &EmployeeRow) {
        let old = before.and_then(department_of);
        let new = department_of(after);
        if old != new {
            if let Some(old) = old {
                *self.by_name.entry(old.to_owned()).or_default() -= 1;
            }
            if let Some(new) = new {
                *self.by_name.entry(new.to_owned()).or_default() += 1;
            }
            return;
        }
        // Same department: its member list changed only if how they are named did.
        let named = |row: &EmployeeRow| {
            display_name_of(
                row.display_name.clone(),
                row.given_name.clone(),
                row.family_name.clone(),
            )
        };
        if let (Some(department), Some(before)) = (new, before)
            && named(before) != named(after)
        {
            self.by_name.entry(department.to_owned()).or_default();
        }
    }

    /// Writes the changes to the summaries, inside the caller's transaction.
    pub(crate) fn apply(
        self,
        conn: &mut DbConnection,
        tenant: &TenantId,
        now: NaiveDateTime,
    ) -> Result<()> {
        if self.by_name.is_empty() {
            return Ok(());
        }
        for (name, delta) in self.by_name {
            let upsert = diesel::insert_into(departments::table)
                .values((
                    departments::tenant_id.eq(tenant.as_str()),
                    departments::name.eq(&name),
                    departments::members.eq(delta),
                    departments::created_at.eq(now),
                    departments::updated_at.eq(now),
                    departments::version.eq(1),
                ))
                .on_conflict((departments::tenant_id, departments::name))
                .do_update()
                .set((
                    departments::members.eq(departments::members + excluded(departments::members)),
                    departments::updated_at.eq(excluded(departments::updated_at)),
                    departments::version.eq(departments::version + 1),
                ));
            on_own_connection!(&mut *conn, |c| upsert.execute(c))?;
        }
        diesel::delete(
            departments::table
                .filter(departments::tenant_id.eq(tenant.as_str()))
                .filter(departments::members.le(0)),
        )
        .execute(conn)?;
        Ok(())
    }
}
