//! `retort revision`: writes a new revision file from the template.
//!
//! Also the file-writing half of `retort merge` ([`generate`]). Both work on
//! the migrations directory on disk, also when the CLI is mounted in a
//! service: that directory is what the next build embeds.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use retort_core::MigrationSet;
use retort_core::format::{parse, validate_name};
use retort_core::template::{DEFAULT_TEMPLATE, Template, Values};

use crate::{Context, RevisionArgs};
use retort_runtime::Migrations;

/// The template `retort revision` uses when the settings name none and the
/// migrations directory has this file.
pub(crate) const TEMPLATE_FILE: &str = "script.sql.tmpl";

pub(crate) fn run(ctx: &Context<'_>, args: &RevisionArgs) -> anyhow::Result<ExitCode> {
    let dir = ctx.migrations_dir();
    let migrations = load_dir(&dir)?;
    let set = migrations.set();
    let parents = parents(set, &args.head, args.splice, &args.branch_label)?;
    let depends_on = args
        .depends_on
        .iter()
        .map(|d| dependency(set, d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    generate(
        ctx,
        &dir,
        set,
        NewRevision {
            message: &args.message,
            rev_id: args.rev_id.as_deref(),
            parents,
            branch_labels: &args.branch_label,
            depends_on,
            transactional: !args.no_transaction,
            upgrade: "",
            downgrade: "",
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the migrations directory, which must exist.
pub(crate) fn load_dir(dir: &Path) -> anyhow::Result<Migrations> {
    if !dir.is_dir() {
        bail!(
            "migrations directory `{}` does not exist; run `retort init` to create it, or point `--migrations` (or `migrations` in retort.toml) at yours",
            dir.display()
        );
    }
    Migrations::from_dir(dir)
        .with_context(|| format!("cannot load the revisions in {}", dir.display()))
}

/// The parents of a new revision, from `--head` (default: the single head).
pub(crate) fn parents(
    set: &MigrationSet,
    heads: &[String],
    splice: bool,
    labels: &[String],
) -> anyhow::Result<Vec<String>> {
    let current: Vec<&str> = set.heads().collect();
    if heads.is_empty() {
        return match current.as_slice() {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![(*one).to_owned()]),
            many => bail!(
                "there are several heads ({}); say which one the new revision goes on with `--head <rev>` (or `--head <label>@head`), or join them first with `retort merge -m \"merge heads\"`",
                list(many)
            ),
        };
    }
    let mut parents: Vec<String> = Vec::new();
    for head in heads {
        if head == "base" {
            if !set.is_empty() && labels.is_empty() {
                bail!(
                    "`--head base` starts a new base, a second root next to the existing revisions; give its branch a name with `--branch-label <label>`"
                );
            }
            continue;
        }
        let resolved = set
            .resolve(head)
            .with_context(|| format!("invalid `--head {head}`"))?;
        for rev in resolved {
            let id = rev.id();
            if !splice && !current.contains(&id) {
                bail!(
                    "revision `{id}` is not a head revision; please specify --splice to create a new branch from this revision (heads: {})",
                    list(&current)
                );
            }
            if !parents.iter().any(|p| p == id) {
                parents.push(id.to_owned());
            }
        }
    }
    Ok(parents)
}

/// A `--depends-on` value: a branch label stays a label, anything else is
/// resolved to one full revision id.
pub(crate) fn dependency(set: &MigrationSet, value: &str) -> anyhow::Result<String> {
    let graph = set
        .graph()
        .map_err(|_| anyhow::anyhow!("the revision graph is invalid"))?;
    if graph.label(value).is_some() && graph.get(value).is_none() {
        return Ok(value.to_owned());
    }
    let resolved = set
        .resolve(value)
        .with_context(|| format!("invalid `--depends-on {value}`"))?;
    match resolved.as_slice() {
        [one] => Ok(one.id().to_owned()),
        [] => bail!("`--depends-on {value}` names no revision"),
        many => bail!(
            "`--depends-on {value}` names several revisions ({}); list them one by one",
            list(&many.iter().map(|r| r.id()).collect::<Vec<_>>())
        ),
    }
}

/// What to write.
pub(crate) struct NewRevision<'a> {
    pub(crate) message: &'a str,
    pub(crate) rev_id: Option<&'a str>,
    pub(crate) parents: Vec<String>,
    pub(crate) branch_labels: &'a [String],
    pub(crate) depends_on: Vec<String>,
    pub(crate) transactional: bool,
    /// The upgrade section's SQL (empty: the template's placeholder).
    pub(crate) upgrade: &'a str,
    /// The downgrade section's SQL.
    pub(crate) downgrade: &'a str,
}

/// Renders and writes a new revision into `dir`, checks that the directory
/// still loads (removing the file again if not), and reports it.
pub(crate) fn generate(
    ctx: &Context<'_>,
    dir: &Path,
    set: &MigrationSet,
    new: NewRevision<'_>,
) -> anyhow::Result<PathBuf> {
    let graph = set
        .graph()
        .map_err(|_| anyhow::anyhow!("the revision graph is invalid"))?;
    let taken = |name: &str| set.get(name).is_some() || graph.label(name).is_some();
    let id = match new.rev_id {
        Some(id) => {
            validate_name(id)
                .map_err(|reason| anyhow::anyhow!("invalid `--rev-id {id}`: {reason}"))?;
            if taken(id) {
                bail!("`--rev-id {id}`: a revision or branch label `{id}` already exists");
            }
            id.to_owned()
        }
        None => loop {
            let id = random_id();
            if !taken(&id) {
                break id;
            }
        },
    };
    let mut labels: Vec<String> = Vec::new();
    for label in new.branch_labels {
        validate_name(label)
            .map_err(|reason| anyhow::anyhow!("invalid `--branch-label {label}`: {reason}"))?;
        if taken(label) || *label == id {
            bail!("`--branch-label {label}`: a revision or branch label `{label}` already exists");
        }
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }

    let (template_name, template_text) = template_source(ctx, dir)?;
    let template = Template::parse(&template_name, &template_text)?;
    let now = Utc::now();
    let create_date = now.to_string();
    let text = template.render(&Values {
        message: new.message,
        revision: &id,
        revises: &new.parents,
        create_date: &create_date,
        branch_labels: &labels,
        depends_on: &new.depends_on,
        transactional: new.transactional,
        upgrade: new.upgrade,
        downgrade: new.downgrade,
    });

    let slug = slug(new.message);
    let name = ctx
        .settings
        .file_template()
        .render(|placeholder| match placeholder {
            "rev" => id.clone(),
            "slug" => slug.clone(),
            "year" => format!("{:04}", now.year),
            "month" => format!("{:02}", now.month),
            "day" => format!("{:02}", now.day),
            "hour" => format!("{:02}", now.hour),
            "minute" => format!("{:02}", now.minute),
            "second" => format!("{:02}", now.second),
            _ => String::new(),
        });
    let name = if slug.is_empty() {
        name.trim_matches('_').to_owned()
    } else {
        name
    };
    let path = dir.join(format!("{name}.sql"));
    let display = path.display().to_string();

    check_rendered(
        &template_name,
        &display,
        &text,
        &id,
        &new.parents,
        &labels,
        &new.depends_on,
    )?;

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {display}"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {display}"))?;
    drop(file);

    if let Err(errors) = Migrations::from_dir(dir) {
        let removed = std::fs::remove_file(&path).is_ok();
        return Err(anyhow::Error::new(errors).context(format!(
            "the new revision would make the migrations directory invalid; {} {display}",
            if removed {
                "removed"
            } else {
                "could not remove"
            }
        )));
    }
    ctx.out.status(format!("Generating {display} ... done"));
    Ok(path)
}

/// The template: the `template` setting, else `<dir>/script.sql.tmpl` if it
/// exists, else the built-in default.
fn template_source(ctx: &Context<'_>, dir: &Path) -> anyhow::Result<(String, String)> {
    let path = match ctx.settings.template() {
        Some(path) => path,
        None => {
            let path = dir.join(TEMPLATE_FILE);
            if !path.is_file() {
                return Ok(("<default template>".to_owned(), DEFAULT_TEMPLATE.to_owned()));
            }
            path
        }
    };
    let display = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the revision template {display}"))?;
    Ok((display, text))
}

/// Checks that the rendered text is a revision file with the intended
/// header, so a broken template never writes a file.
fn check_rendered(
    template: &str,
    file: &str,
    text: &str,
    id: &str,
    parents: &[String],
    labels: &[String],
    depends_on: &[String],
) -> anyhow::Result<()> {
    let parsed = parse(file, text).with_context(|| {
        format!("the revision template {template} does not produce a valid revision file")
    })?;
    let mismatch = if parsed.id != id {
        Some("`-- Revision ID: ${revision}`")
    } else if parsed.parents != parents {
        Some("`-- Revises: ${revises}`")
    } else if parsed.branch_labels != labels {
        Some("`-- Branch Labels: ${branch_labels?}`")
    } else if parsed.depends_on != depends_on {
        Some("`-- Depends On: ${depends_on?}`")
    } else {
        None
    };
    match mismatch {
        Some(line) => bail!(
            "the revision template {template} does not write the new revision's header: it needs a line {line}"
        ),
        None => Ok(()),
    }
}

fn list(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message as a file-name part: lowercase ASCII letters and digits,
/// everything else `_`, runs collapsed, at most 40 characters.
pub(crate) fn slug(message: &str) -> String {
    const MAX: usize = 40;
    let mut slug = String::new();
    for c in message.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
        if slug.len() >= MAX {
            break;
        }
    }
    slug.trim_end_matches('_').to_owned()
}

/// 12 random lowercase hex digits, like Alembic's ids.
pub(crate) fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = RandomState::new().hash_one((
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ));
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

/// A UTC date and time, enough for `Create Date` and file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Utc {
    fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::from_unix(i64::try_from(secs).unwrap_or(0))
    }

    /// Howard Hinnant's `civil_from_days`.
    fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Self {
            year,
            month: small(month),
            day: small(day),
            hour: small(rem / 3600),
            minute: small(rem % 3600 / 60),
            second: small(rem % 60),
        }
    }
}

impl std::fmt::Display for Utc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00:00",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Add users table"), "add_users_table");
        assert_eq!(slug("  --Fix: the  (bug)!! "), "fix_the_bug");
        assert_eq!(slug("ümlaut café"), "mlaut_caf");
        assert_eq!(slug("!!!"), "");
        let long = slug(&"word ".repeat(30));
        assert!(long.len() <= 40 && !long.ends_with('_'), "{long}");
    }

    #[test]
    fn random_ids_are_12_hex_digits_and_differ() {
        let a = random_id();
        let b = random_id();
        assert_eq!(a.len(), 12);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn dates() {
        assert_eq!(Utc::from_unix(0).to_string(), "1970-01-01 00:00:00+00:00");
        assert_eq!(
            Utc::from_unix(1_795_966_200).to_string(),
            "2026-11-29 15:30:00+00:00"
        );
        assert_eq!(
            Utc::from_unix(951_782_400).to_string(),
            "2000-02-29 00:00:00+00:00"
        );
    }
}
