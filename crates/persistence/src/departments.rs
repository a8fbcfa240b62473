//! Department summaries kept in step with the employees, in the same transaction as each
//! change: how many members each department has, and a version that moves whenever its
//! member list does (`department_reads` reads them).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::connection::{DbConnection, on_own_connection};
use crate::error::Result;
use crate::ids::TenantId;
use crate::names::display_name_of;
use crate::schema::departments;

/// What a change of employees does to their departments: members in and out per
/// department, and which departments' member lists changed at all.
#[derive(Debug, Default)]
pub(crate) struct DepartmentChanges {
    /// Department name → change in its member count, for every department whose
    /// members changed (a renamed member changes it by 0).
    by_name: BTreeMap<String, i64>,
}

/// What a department's summary needs to know of one of its employees.
pub(crate) struct Member<'a> {
    /// Their department, if they have one (blank is none).
    pub(crate) department: Option<&'a str>,
    /// Their display, given and family names: what the member list calls them.
    pub(crate) names: [Option<&'a str>; 3],
}

impl Member<'_> {
    /// What the member list calls them (see `names::display_name_of`).
    fn named(&self) -> Option<String> {
        let [display, given, family] = self.names.map(|name| name.map(str::to_owned));
        display_name_of(display, given, family)
    }
}

impl DepartmentChanges {
    /// Notes an employee as `before` (none for a new one) and `after` a change.
    pub(crate) fn employee(&mut self, before: Option<&Member<'_>>, after: &Member<'_>) {
        let old = before.and_then(|member| member.department);
        let new = after.department;
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
        if let (Some(department), Some(before)) = (new, before)
            && before.named() != after.named()
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
