//! What every backend's catalog reader shares: the error of a failed
//! catalog query and the views' dependencies, computed alike for all.

use crate::error::Error;
use crate::model::Schema;

/// The error of a failed catalog query.
pub(crate) fn query_error(what: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |source| Error::Query {
        what: format!("reading the schema ({what})"),
        error: source,
    }
}

/// Fills each view's `depends_on` with the tables and views its definition
/// names (by name: an over-approximation, which only makes retort recreate
/// a view more often than strictly needed).
pub(crate) fn view_dependencies(schema: &mut Schema) {
    let d = schema.dialect;
    let names: std::collections::BTreeSet<String> = schema
        .tables
        .keys()
        .chain(schema.views.keys())
        .cloned()
        .collect();
    for (k, view) in &mut schema.views {
        let mut deps: Vec<String> = crate::normalise::idents(d, &view.definition)
            .into_iter()
            .map(|n| crate::model::key(d, &n))
            .filter(|n| names.contains(n) && n != k)
            .collect();
        deps.sort();
        deps.dedup();
        view.depends_on = deps;
    }
}
