//! Finding a tenant by its id: the sign-in callback on the shared auth host knows only
//! the tenant id its login transaction names.

use diesel::prelude::*;

use crate::error::Result;
use crate::schema::tenants;
use crate::tenants::{Tenant, TenantId, Tenants};

impl Tenants<'_> {
    /// The tenant with this id, if there is one.
    pub fn find_by_id(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let workspace: Option<String> = tenants::table
            .find(id.as_str())
            .select(tenants::workspace)
            .first(&mut *self.db.conn()?)
            .optional()?;
        match workspace {
            Some(workspace) => Ok(self.find(&workspace)?.filter(|t| &t.id == id)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Actor, Database, Workspace};

    #[test]
    fn tenants_are_found_by_id() {
        let db = Database::open(&":memory:".parse().unwrap()).unwrap();
        db.migrate().unwrap();
        let acme = db
            .tenants()
            .create(&Workspace::parse("acme").unwrap(), "Acme", &Actor::system())
            .unwrap();
        let found = db.tenants().find_by_id(&acme.id).unwrap().unwrap();
        assert_eq!(found.workspace.as_str(), "acme");
        db.tenants()
            .create(
                &Workspace::parse("globex").unwrap(),
                "Globex",
                &Actor::system(),
            )
            .unwrap();
        assert_eq!(
            db.tenants().find_by_id(&acme.id).unwrap().unwrap().id,
            acme.id
        );
    }
}
