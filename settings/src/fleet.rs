//! `[fleet.NAME]` tables: the databases or tenant schemas one command
//! migrates together, and where their names come from.
//!
//! ```toml
//! [fleet.tenants]
//! shape = "schema"          # "url" (default), "database" or "schema"
//! targets_query = "SELECT schema_name FROM tenants ORDER BY 1"
//! jobs = 8
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Position, Result, SettingsError};
use crate::secret::Secret;

/// A `[fleet.NAME]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFleet {
    shape: Option<Spanned<String>>,
    targets: Option<Spanned<Vec<toml::Value>>>,
    targets_file: Option<Spanned<String>>,
    targets_query: Option<Spanned<String>>,
    jobs: Option<Spanned<i64>>,
}

/// The `[fleet]` tables of one level.
pub(crate) type RawFleets = BTreeMap<String, Spanned<RawFleet>>;

/// What a fleet's target names are (see `retort_fleet::Shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FleetShape {
    /// Database URLs.
    Url,
    /// Databases on the server of the project's database URL.
    Database,
    /// PostgreSQL schemas in the project's database.
    Schema,
}

/// Where a fleet's target names come from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FleetSource {
    /// `targets = [...]` (URLs may hold passwords, hence [`Secret`]).
    List(Vec<Secret>),
    /// `targets_file`: one name per line (`#` comments), relative to the
    /// settings file.
    File(PathBuf),
    /// `targets_query`: SQL run on the project's database, returning one
    /// text column.
    Query(String),
}

/// A checked `[fleet.NAME]` table.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FleetSettings {
    /// The fleet's name.
    pub name: String,
    /// What its targets are.
    pub shape: FleetShape,
    /// Where their names come from.
    pub source: FleetSource,
    /// `jobs`: targets at once, when set.
    pub jobs: Option<usize>,
}

/// Checks the `[fleet.*]` tables of a level (`prefix` is `""` or `env.NAME.`).
pub(crate) fn check(
    raw: RawFleets,
    prefix: &str,
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, FleetSettings>> {
    let mut fleets = BTreeMap::new();
    for (name, raw) in raw {
        let at = raw.span().start;
        let raw = raw.into_inner();
        let key = |k: &str| format!("{prefix}fleet.{name}.{k}");
        let invalid = |k: &str, at: usize, message: String| SettingsError::Invalid {
            origin: origin.to_owned(),
            key: key(k),
            position: Some(Position::of_offset(text, at)),
            message,
        };
        let shape = match &raw.shape {
            None => FleetShape::Url,
            Some(s) => match s.get_ref().as_str() {
                "url" => FleetShape::Url,
                "database" => FleetShape::Database,
                "schema" => FleetShape::Schema,
                other => {
                    return Err(invalid(
                        "shape",
                        s.span().start,
                        format!("unknown shape `{other}`; use \"url\", \"database\" or \"schema\""),
                    ));
                }
            },
        };
        let mut sources = Vec::new();
        if let Some(list) = raw.targets {
            let start = list.span().start;
            let mut names = Vec::new();
            for value in list.into_inner() {
                match value {
                    toml::Value::String(s) if !s.trim().is_empty() => {
                        names.push(Secret::new(s.trim()));
                    }
                    _ => {
                        return Err(invalid(
                            "targets",
                            start,
                            "each target must be a non-empty string".to_owned(),
                        ));
                    }
                }
            }
            sources.push(("targets", FleetSource::List(names)));
        }
        if let Some(file) = raw.targets_file {
            if file.get_ref().trim().is_empty() {
                let message = "must not be empty".to_owned();
                return Err(invalid("targets_file", file.span().start, message));
            }
            let path = PathBuf::from(file.into_inner());
            sources.push(("targets_file", FleetSource::File(path)));
        }
        if let Some(query) = raw.targets_query {
            if query.get_ref().trim().is_empty() {
                let message = "must not be empty".to_owned();
                return Err(invalid("targets_query", query.span().start, message));
            }
            sources.push(("targets_query", FleetSource::Query(query.into_inner())));
        }
        let source = match sources.len() {
            1 => sources.remove(0).1,
            0 => {
                return Err(invalid(
                    "targets",
                    at,
                    "a fleet needs its targets: set one of `targets`, `targets_file` or `targets_query`"
                        .to_owned(),
                ));
            }
            _ => {
                let keys: Vec<_> = sources.iter().map(|(k, _)| format!("`{k}`")).collect();
                return Err(invalid(
                    sources[1].0,
                    at,
                    format!("set one source of targets, not {}", keys.join(" and ")),
                ));
            }
        };
        let jobs = match raw.jobs {
            None => None,
            Some(jobs) => match usize::try_from(*jobs.get_ref()) {
                Ok(n @ 1..=1024) => Some(n),
                _ => {
                    let message = "must be from 1 to 1024".to_owned();
                    return Err(invalid("jobs", jobs.span().start, message));
                }
            },
        };
        fleets.insert(
            name.clone(),
            FleetSettings {
                name,
                shape,
                source,
                jobs,
            },
        );
    }
    Ok(fleets)
}

/// The fleet `name` of `fleets`, or without a name the only one; a
/// `targets_file` goes through `resolve` (relative to the settings file).
pub(crate) fn select(
    fleets: &BTreeMap<String, FleetSettings>,
    name: Option<&str>,
    origin: &str,
    resolve: impl Fn(&Path) -> PathBuf,
) -> Result<FleetSettings> {
    let error = |message: String| SettingsError::Invalid {
        origin: origin.to_owned(),
        key: "fleet".to_owned(),
        position: None,
        message,
    };
    let found = match (name, fleets.len()) {
        (Some(name), 0) => {
            return Err(error(format!(
                "no fleet `{name}`: the settings configure no fleet; add a `[fleet.{name}]` table"
            )));
        }
        (Some(name), _) => fleets.get(name).ok_or_else(|| {
            let names: Vec<_> = fleets.keys().map(|n| format!("`{n}`")).collect();
            error(format!(
                "no fleet `{name}`; the configured fleets are {}",
                names.join(", ")
            ))
        })?,
        (None, 0) => {
            return Err(error(
                "no fleet is configured: add a `[fleet.NAME]` table (docs/fleet.md)".to_owned(),
            ));
        }
        (None, 1) => fleets.values().next().ok_or_else(|| error(String::new()))?,
        (None, _) => {
            let flags: Vec<_> = fleets.keys().map(|n| format!("`--fleet={n}`")).collect();
            return Err(error(format!(
                "several fleets are configured; name one: {}",
                flags.join(", ")
            )));
        }
    };
    let mut fleet = found.clone();
    if let FleetSource::File(path) = &fleet.source {
        fleet.source = FleetSource::File(resolve(path));
    }
    Ok(fleet)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;
    use crate::Settings;

    fn err(text: &str) -> String {
        Settings::from_str(text).unwrap_err().to_string()
    }

    #[test]
    fn a_fleet_is_read_and_an_environment_replaces_it_by_name() {
        let settings = Settings::from_str(
            "[fleet.tenants]\nshape = \"schema\"\ntargets_query = \"SELECT s FROM t\"\njobs = 8\n\
             [fleet.shards]\ntargets = [\"postgres://a/x\", \"postgres://b/x\"]\n\
             [env.dev.fleet.tenants]\ntargets = [\"t1\"]\nshape = \"schema\"\n",
        )
        .unwrap();
        let tenants = settings.fleet(Some("tenants")).unwrap();
        assert_eq!(tenants.shape, FleetShape::Schema);
        assert!(matches!(&tenants.source, FleetSource::Query(q) if q == "SELECT s FROM t"));
        assert_eq!(tenants.jobs, Some(8));
        let shards = settings.fleet(Some("shards")).unwrap();
        assert_eq!(shards.shape, FleetShape::Url);
        assert!(matches!(&shards.source, FleetSource::List(l) if l.len() == 2));
        let dev = settings.with_env("dev").unwrap();
        let tenants = dev.fleet(Some("tenants")).unwrap();
        assert!(matches!(&tenants.source, FleetSource::List(l) if l[0].expose() == "t1"));
        assert_eq!(tenants.jobs, None);
        let msg = dev.fleet(None).unwrap_err().to_string();
        assert!(
            msg.contains("name one: `--fleet=shards`, `--fleet=tenants`"),
            "{msg}"
        );
        let msg = dev.fleet(Some("nope")).unwrap_err().to_string();
        assert!(msg.contains("`shards`, `tenants`"), "{msg}");
    }

    #[test]
    fn bad_fleet_tables_name_the_key_and_line() {
        let msg = err("[fleet.t]\nshape = \"tenant\"\ntargets = [\"a\"]\n");
        assert!(
            msg.contains("<string>:2") && msg.contains("`fleet.t.shape`"),
            "{msg}"
        );
        let msg = err("[fleet.t]\nshape = \"schema\"\n");
        assert!(
            msg.contains("`fleet.t.targets`") && msg.contains("one of"),
            "{msg}"
        );
        let msg = err("[fleet.t]\ntargets = [\"a\"]\ntargets_file = \"f\"\n");
        assert!(msg.contains("not `targets` and `targets_file`"), "{msg}");
        let msg = err("[fleet.t]\ntargets = [\"a\", 3]\n");
        assert!(
            msg.contains("`fleet.t.targets`") && msg.contains("non-empty string"),
            "{msg}"
        );
        let msg = err("[fleet.t]\ntargets = [\"a\"]\njobs = 0\n");
        assert!(
            msg.contains("`fleet.t.jobs`: must be from 1 to 1024"),
            "{msg}"
        );
        let msg = err("[fleet.t]\ntargets = [\"a\"]\njob = 2\n");
        assert!(msg.contains("unknown field `job`"), "{msg}");
        let msg = err("[env.p.fleet.t]\ntargets_query = \" \"\n");
        assert!(msg.contains("`env.p.fleet.t.targets_query`"), "{msg}");
        let msg = Settings::from_str("")
            .unwrap()
            .fleet(None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no fleet is configured"), "{msg}");
    }

    #[test]
    fn a_targets_file_is_relative_to_the_settings_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("retort.toml");
        std::fs::write(&path, "[fleet.t]\ntargets_file = \"tenants.txt\"\n").unwrap();
        let fleet = Settings::from_path(&path).unwrap().fleet(None).unwrap();
        assert!(
            matches!(&fleet.source, FleetSource::File(p) if *p == dir.path().join("tenants.txt"))
        );
    }
}
