//! Offline mode (`--sql`): the SQL script an upgrade, downgrade or stamp
//! would run, rendered without connecting, for review by a DBA.
//!
//! The script creates the version and history tables if missing, then runs
//! each step as the engine does: a transactional revision on a dialect with
//! transactional DDL is one `BEGIN ... COMMIT` with its bookkeeping; any
//! other revision runs its statements one by one, then its bookkeeping in a
//! transaction of its own. Values are rendered as literals; the SQL itself
//! (table definitions, bookkeeping statements, literal syntax) is the
//! drivers'.

use std::fmt::Write as _;

use retort_core::MigrationSet;
use retort_core::plan::{Direction, Plan, PlanError, VersionChange};
use retort_core::target::TargetError;

use crate::config::Config;
use crate::driver::{NewHistory, OfflineSql, Op};
use crate::error::Error;
use crate::history::{Operation, Status};
use crate::migrations::Migrations;
use crate::url::Backend;
use retort_core::split::{Dialect, split};

/// A value bound into a bookkeeping statement.
#[derive(Debug, Clone, Copy)]
enum Lit<'a> {
    Str(&'a str),
    Int(i64),
    Null,
    /// An SQL expression, evaluated when the script runs.
    Sql(&'a str),
}

/// The offline SQL of `backend`, when this build supports it.
fn driver_sql(backend: Backend, config: &Config) -> Result<OfflineSql, Error> {
    config.validate()?;
    let missing = |feature| Error::BackendNotBuilt {
        backend: backend.name(),
        feature,
    };
    match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(crate::driver::postgres::offline(config)),
        #[cfg(feature = "mysql")]
        Backend::MySql => Ok(crate::driver::mysql::offline(config)),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(crate::driver::sqlite::offline(config)),
        #[allow(unreachable_patterns)]
        Backend::Postgres => Err(missing("postgres")),
        #[allow(unreachable_patterns)]
        Backend::MySql => Err(missing("mysql")),
        #[allow(unreachable_patterns)]
        Backend::Sqlite => Err(missing("sqlite")),
    }
}

/// The version-table rows an offline run starts from: the revisions
/// `start` resolves to (`base`: none).
fn start_rows<'s>(set: &'s MigrationSet, start: Option<&str>) -> Result<Vec<&'s str>, Error> {
    match start {
        None => Ok(Vec::new()),
        Some(start) => Ok(set.resolve(start)?.into_iter().map(|r| r.id()).collect()),
    }
}

/// A rendered script.
pub struct Script {
    /// The SQL.
    pub sql: String,
    /// When the script does nothing: what to tell the user.
    pub nothing: Option<String>,
}

/// The script of an upgrade from `start` (default: an empty database) to `target`.
pub fn upgrade(
    migrations: &Migrations,
    config: &Config,
    backend: Backend,
    start: Option<&str>,
    target: &str,
) -> Result<Script, Error> {
    let set = migrations.set();
    let sql = driver_sql(backend, &config.for_set(migrations.name()))?;
    let rows = start_rows(set, start)?;
    let plan = set.plan_upgrade(&rows, target)?;
    if let Some(start) = start
        && plan.steps.is_empty()
        && set
            .plan_downgrade(&rows, target)
            .is_ok_and(|down| !down.steps.is_empty())
    {
        return Err(Error::ReversedRange {
            direction: Direction::Upgrade,
            start: start.to_owned(),
            end: target.to_owned(),
        });
    }
    Ok(script(&sql, set, &plan))
}

/// The script of a downgrade from `start` to `target`.
pub fn downgrade(
    migrations: &Migrations,
    config: &Config,
    backend: Backend,
    start: &str,
    target: &str,
) -> Result<Script, Error> {
    let set = migrations.set();
    let sql = driver_sql(backend, &config.for_set(migrations.name()))?;
    let rows = start_rows(set, Some(start))?;
    let plan = match set.plan_downgrade(&rows, target) {
        Err(PlanError::Target(TargetError::WrongDirection { .. }))
            if set
                .plan_upgrade(&rows, target)
                .is_ok_and(|up| !up.steps.is_empty()) =>
        {
            return Err(Error::ReversedRange {
                direction: Direction::Downgrade,
                start: start.to_owned(),
                end: target.to_owned(),
            });
        }
        plan => plan?,
    };
    Ok(script(&sql, set, &plan))
}

fn script(sql: &OfflineSql, set: &MigrationSet, plan: &Plan<'_>) -> Script {
    Script {
        sql: render_plan(sql, set, plan),
        nothing: plan.steps.is_empty().then(|| {
            format!(
                "nothing to {}: the script only creates the bookkeeping tables if missing; at {}",
                plan.direction.as_str(),
                show_heads(&plan.heads_before)
            )
        }),
    }
}

/// The script of a stamp from `start` (default: an empty version table) to `targets`.
pub fn stamp(
    migrations: &Migrations,
    config: &Config,
    backend: Backend,
    start: Option<&str>,
    targets: &[&str],
    purge: bool,
) -> Result<Script, Error> {
    let set = migrations.set();
    let sql = driver_sql(backend, &config.for_set(migrations.name()))?;
    let rows = start_rows(set, start)?;
    let plan = set.plan_stamp(&rows, targets, purge)?;
    let mut out = prelude(&sql);
    let _ = writeln!(
        out,
        "-- Stamping {} -> {}",
        show_heads(&rows),
        show_heads(&plan.heads_after)
    );
    statement(&mut out, &sql, sql.begin);
    for op in crate::engine::stamp_ops(set, &plan, purge) {
        match op {
            Op::PurgeVersions => statement(&mut out, &sql, &sql.statements.purge),
            Op::Version(change) => version_change(&mut out, &sql, change),
            Op::History(h) => history_row(&mut out, &sql, h),
            // A stamp runs no revision SQL and tracks no attempt. It does
            // not mark a failed step resolved either: the new row hash
            // that takes depends on the row, which a script cannot know.
            Op::Sql(_)
            | Op::Code(_)
            | Op::Progress { .. }
            | Op::Finish { .. }
            | Op::Reseal { .. }
            | Op::Resolve { .. } => {}
        }
    }
    statement(&mut out, &sql, sql.commit);
    let nothing = (plan
        .heads_after
        .iter()
        .map(String::as_str)
        .eq(rows.iter().copied())
        && !purge)
        .then(|| format!("nothing to stamp: at {}", show_heads(&rows)));
    Ok(Script { sql: out, nothing })
}

fn show_heads<S: AsRef<str>>(heads: &[S]) -> String {
    if heads.is_empty() {
        "base".to_owned()
    } else {
        heads
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Creates the version and history tables if missing.
fn prelude(sql: &OfflineSql) -> String {
    let mut out = String::new();
    let s = &sql.statements;
    for create in [
        &s.create_version,
        &s.create_history,
        &s.create_history_index,
    ] {
        if !create.is_empty() {
            statement(&mut out, sql, create);
        }
    }
    out.push('\n');
    out
}

fn render_plan(sql: &OfflineSql, set: &MigrationSet, plan: &Plan<'_>) -> String {
    let mut out = prelude(sql);
    if plan.steps.is_empty() {
        let _ = writeln!(
            out,
            "-- nothing to {}; at {}",
            plan.direction.as_str(),
            show_heads(&plan.heads_before)
        );
    }
    for step in &plan.steps {
        let rev = step.revision;
        let parents = rev.parents().collect::<Vec<_>>().join(", ");
        let (from, to) = match step.direction {
            Direction::Upgrade => (parents.as_str(), rev.id()),
            Direction::Downgrade => (rev.id(), parents.as_str()),
        };
        let _ = writeln!(
            out,
            "-- Running {} {from} -> {to}, {}",
            step.direction.as_str(),
            one_line(rev.message())
        );
        let statements = split(step.sql(), sql.dialect);
        let in_transaction = rev.is_transactional() && sql.transactional_ddl;
        if in_transaction {
            statement(&mut out, sql, sql.begin);
        }
        for s in &statements {
            statement(&mut out, sql, s.sql);
        }
        if rev.is_code() {
            let _ = writeln!(
                out,
                "-- retort: NOT RENDERED: the {} of revision `{}` is Rust code ({}), which has no SQL to show.\n\
                 -- Do its work here by hand before the statements below record it as applied, or apply\n\
                 -- this revision with the service's own CLI (`retort::cli::run(&MIGRATIONS)`) instead.",
                step.direction.as_str(),
                rev.id(),
                rev.path()
            );
        }
        if !in_transaction {
            statement(&mut out, sql, sql.begin);
        }
        version_change(&mut out, sql, &step.version);
        history_row(
            &mut out,
            sql,
            crate::engine::history(
                rev,
                Operation::of(step.direction),
                Status::Applied,
                if rev.is_code() { 1 } else { statements.len() },
                crate::engine::Lineages::Of(set),
            ),
        );
        statement(&mut out, sql, sql.commit);
        out.push('\n');
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn version_change(out: &mut String, sql: &OfflineSql, change: &VersionChange) {
    let s = &sql.statements;
    if let Some((from, to)) = &change.update {
        let text = bind(
            &s.update_version,
            sql,
            &[Lit::Str(to.as_str()), Lit::Str(from.as_str())],
        );
        statement(out, sql, &text);
    }
    for id in &change.delete {
        statement(
            out,
            sql,
            &bind(&s.delete_version, sql, &[Lit::Str(id.as_str())]),
        );
    }
    for id in &change.insert {
        statement(
            out,
            sql,
            &bind(&s.insert_version, sql, &[Lit::Str(id.as_str())]),
        );
    }
}

/// A history row, chained onto whatever row is last when the script runs
/// (see [`crate::chain`]): its hash is the one the engine would compute,
/// its link read by the `INSERT` itself.
fn history_row(out: &mut String, sql: &OfflineSql, h: NewHistory<'_>) {
    let hash = h.content().hash();
    let prev = format!("COALESCE({}, '')", sql.statements.last_hash);
    let values = [
        Lit::Str(h.revision),
        Lit::Str(h.operation.as_str()),
        Lit::Str(h.status.as_str()),
        Lit::Str(&h.parents),
        Lit::Str(&h.checksum),
        Lit::Str(&h.lineage),
        Lit::Int(h.statement_count),
        Lit::Int(h.statements_done),
        h.downgrade_sql.map_or(Lit::Null, Lit::Str),
        // Not timed: the script runs later, elsewhere.
        Lit::Null,
        Lit::Str(crate::history::RETORT_VERSION),
        Lit::Int(i64::from(retort_core::checksum::SCHEME_VERSION)),
        h.error.as_deref().map_or(Lit::Null, Lit::Str),
        Lit::Str(&h.nonce),
        Lit::Sql(&prev),
        Lit::Str(&hash),
    ];
    statement(
        out,
        sql,
        &bind(&sql.statements.insert_history, sql, &values),
    );
}

/// Replaces the placeholders of `template` (outside quoted strings) by
/// literals: `$N` on PostgreSQL, `?` in order elsewhere.
fn bind(template: &str, sql: &OfflineSql, values: &[Lit<'_>]) -> String {
    let render = |v: Option<&Lit<'_>>| match v {
        Some(Lit::Str(s)) => (sql.literal)(s),
        Some(Lit::Int(i)) => i.to_string(),
        Some(Lit::Sql(expression)) => (*expression).to_owned(),
        Some(Lit::Null) | None => "NULL".to_owned(),
    };
    let mut out = String::with_capacity(template.len() + 64);
    let mut quote: Option<char> = None;
    let mut next = 0;
    let mut chars = template.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') if sql.dialect != Dialect::Postgres => {
                out.push_str(&render(values.get(next)));
                next += 1;
            }
            (None, '$') if sql.dialect == Dialect::Postgres => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                match digits.parse::<usize>() {
                    Ok(n) if n >= 1 => out.push_str(&render(values.get(n - 1))),
                    _ => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
            }
            (None, c) => out.push(c),
        }
    }
    out
}

/// Appends one statement with its terminator, in a form the dialect's
/// command-line client reads: on MySQL, a statement containing `;` (a
/// stored program) is wrapped in `DELIMITER` commands; a statement ending
/// in a line comment gets its `;` on a line of its own.
fn statement(out: &mut String, sql: &OfflineSql, text: &str) {
    let text = text.trim_matches(retort_core::split::is_space);
    let last_line = text.lines().last().unwrap_or_default();
    let comment_at_end =
        last_line.contains("--") || (sql.dialect == Dialect::MySql && last_line.contains('#'));
    let sep = if comment_at_end { "\n" } else { "" };
    if sql.dialect == Dialect::MySql && text.contains(';') {
        let delimiter = ["//", "$$", ";;;;"]
            .into_iter()
            .find(|d| !text.contains(d))
            .unwrap_or("//");
        let _ = writeln!(
            out,
            "DELIMITER {delimiter}\n{text}{sep}{delimiter}\nDELIMITER ;"
        );
    } else {
        let _ = writeln!(out, "{text}{sep};");
    }
}

// The tests render every dialect.
#[cfg(all(test, feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod tests {
    use super::*;

    fn offline(dialect: Dialect) -> OfflineSql {
        let (backend, config) = (
            match dialect {
                Dialect::Postgres => Backend::Postgres,
                Dialect::MySql => Backend::MySql,
                Dialect::Sqlite => Backend::Sqlite,
            },
            Config::default(),
        );
        match driver_sql(backend, &config) {
            Ok(sql) => sql,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        let pg = offline(Dialect::Postgres);
        assert_eq!((pg.literal)("it's"), "'it''s'");
        assert_eq!((pg.literal)(r"a\b'c"), r"E'a\\b''c'");
        let my = offline(Dialect::MySql);
        assert_eq!((my.literal)("it's"), "'it''s'");
        assert_eq!((my.literal)(r"a\b'c"), r"'a\\b''c'");
        assert_eq!((my.literal)("nul\0z\u{1a}"), r"'nul\0z\Z'");
        let lite = offline(Dialect::Sqlite);
        assert_eq!((lite.literal)(r"it's \n"), r"'it''s \n'");
        assert_eq!((lite.literal)("a\0b"), "CAST(X'610062' AS TEXT)");
    }

    #[test]
    fn placeholders_are_replaced_outside_quotes_only() {
        let pg = offline(Dialect::Postgres);
        let text = bind(
            "UPDATE t SET a = $1, b = '$2' WHERE c = $2 AND d = $10",
            &pg,
            &[Lit::Str("x'"), Lit::Int(7)],
        );
        assert_eq!(
            text,
            "UPDATE t SET a = 'x''', b = '$2' WHERE c = 7 AND d = NULL"
        );
        let lite = offline(Dialect::Sqlite);
        let text = bind(
            "INSERT INTO t VALUES (?, '?', ?)",
            &lite,
            &[Lit::Null, Lit::Str("y")],
        );
        assert_eq!(text, "INSERT INTO t VALUES (NULL, '?', 'y')");
    }

    #[test]
    fn statements_are_terminated_for_the_command_line_clients() {
        let my = offline(Dialect::MySql);
        let mut out = String::new();
        statement(&mut out, &my, "CREATE PROCEDURE p() BEGIN SELECT 1; END");
        statement(&mut out, &my, "SELECT 1 # done");
        assert_eq!(
            out,
            "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\nSELECT 1 # done\n;\n"
        );
        let pg = offline(Dialect::Postgres);
        let mut out = String::new();
        statement(&mut out, &pg, "SELECT 1 -- done");
        statement(&mut out, &pg, "SELECT 2");
        assert_eq!(out, "SELECT 1 -- done\n;\nSELECT 2;\n");
    }
}
