//! Connect options for an SQLite URL: sqlx's URL rules, plus retort's
//! default of creating a missing database file, except directly under the
//! filesystem root, where `sqlite:///app.db` (SQLAlchemy's spelling of a
//! *relative* path, an absolute one for sqlx) would otherwise create
//! `/app.db` when the user meant `./app.db`.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

use crate::error::Error;
use crate::url::redact;

/// The connect options for `url`. Without a `mode` parameter the file is
/// created if missing, as users of `sqlite://app.db` expect, unless it
/// would be a new file directly under the root; an explicit `mode`
/// (`rwc`, `rw`, `ro`, `memory`) is sqlx's, as written.
pub(crate) fn options(url: &str) -> Result<SqliteConnectOptions, Error> {
    let options = SqliteConnectOptions::from_str(url).map_err(|e| Error::connect(url, e))?;
    if query_param(url, "mode").is_some() {
        return Ok(options);
    }
    refuse_new_root_file(url, options.get_filename())?;
    Ok(options.create_if_missing(true))
}

/// The value of the query parameter `name`, if present.
fn query_param<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((key, value)) if key == name => Some(value),
            None if pair == name => Some(""),
            _ => None,
        })
}

/// Fails when `file` does not exist and would be created directly under a
/// filesystem root. An existing file there may be opened.
fn refuse_new_root_file(url: &str, file: &Path) -> Result<(), Error> {
    if !file.is_absolute() || file.exists() {
        return Ok(());
    }
    let root = file
        .parent()
        .and_then(|dir| dir.canonicalize().ok())
        .filter(|dir| dir.parent().is_none());
    let (Some(root), Some(file_name)) = (root, file.file_name()) else {
        return Ok(());
    };
    let file = root.join(file_name);
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (url, String::new()),
    };
    let name = path
        .strip_prefix("sqlite:")
        .unwrap_or(path)
        .trim_start_matches('/');
    let separator = if query.is_empty() { '?' } else { '&' };
    Err(Error::InvalidUrl {
        url: redact(url),
        message: format!(
            "it names `{}`, a new file at the root of the filesystem, and retort does not create a database there unasked \
             (sqlx reads `sqlite:///{name}` as an absolute path, SQLAlchemy as a relative one). \
             For `{name}` in the current directory, use `sqlite://{name}{query}`; \
             to create `{}` itself, use `{}{separator}mode=rwc`",
            file.display(),
            file.display(),
            redact(url),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params() {
        assert_eq!(query_param("sqlite://a.db?mode=ro", "mode"), Some("ro"));
        assert_eq!(
            query_param("sqlite://a.db?cache=shared&mode=rwc", "mode"),
            Some("rwc")
        );
        assert_eq!(query_param("sqlite://a.db?cache=shared", "mode"), None);
        assert_eq!(query_param("sqlite://a.db", "mode"), None);
        assert_eq!(query_param("sqlite://a.db?modes=1", "mode"), None);
    }

    #[test]
    fn relative_and_nested_paths_are_created() {
        for url in [
            "sqlite://app.db",
            "sqlite:app.db",
            "sqlite::memory:",
            "sqlite:///no/such/dir/app.db",
        ] {
            let options = options(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            let debug = format!("{options:?}");
            assert!(debug.contains("create_if_missing: true"), "{url}: {debug}");
        }
    }

    #[test]
    fn a_new_root_file_is_refused_with_both_spellings() {
        let name = format!("retort-unit-{}.db", std::process::id());
        assert!(!Path::new("/").join(&name).exists());
        for (url, root, relative) in [
            (
                format!("sqlite:///{name}"),
                format!("sqlite:///{name}?mode=rwc"),
                format!("sqlite://{name}"),
            ),
            (
                format!("sqlite:////{name}?cache=shared"),
                format!("sqlite:////{name}?cache=shared&mode=rwc"),
                format!("sqlite://{name}?cache=shared"),
            ),
            (
                format!("sqlite:/{name}"),
                format!("sqlite:/{name}?mode=rwc"),
                format!("sqlite://{name}"),
            ),
        ] {
            let message = options(&url).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!(
                    "invalid database URL `{url}`: it names `/{name}`, a new file at the root"
                )),
                "{message}"
            );
            assert!(message.contains(&format!("use `{relative}`;")), "{message}");
            assert!(message.contains(&format!("use `{root}`")), "{message}");
        }
        // An explicit mode is taken as written.
        assert!(options(&format!("sqlite:///{name}?mode=rwc")).is_ok());
        assert!(options(&format!("sqlite:///{name}?mode=rw")).is_ok());
    }
}
