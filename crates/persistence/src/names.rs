//! What to call an employee, from the names they have: one rule for every list that
//! shows people (SCIM users' managers, department members).

/// An employee's id and names: display, given, family.
pub(crate) type IdAndNames = (String, Option<String>, Option<String>, Option<String>);

/// What to call someone: the display name, else given and family name.
pub(crate) fn display_name_of(
    display: Option<String>,
    given: Option<String>,
    family: Option<String>,
) -> Option<String> {
    display.filter(|d| !d.trim().is_empty()).or_else(|| {
        let joined = [given, family]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.trim().is_empty()).then_some(joined)
    })
}
