//! Database URLs: which backend they name, and how to show them without
//! their password.

/// The backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://`, `postgresql://`
    Postgres,
    /// `mysql://`, `mariadb://`
    MySql,
    /// `sqlite:`
    Sqlite,
}

impl Backend {
    /// Human name of the backend.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
            Self::Sqlite => "SQLite",
        }
    }
}

/// The backend of a database URL, from its scheme.
pub fn backend(url: &str) -> Option<Backend> {
    let scheme = url.split_once(':')?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(Backend::Postgres),
        "mysql" | "mariadb" => Some(Backend::MySql),
        "sqlite" => Some(Backend::Sqlite),
        _ => None,
    }
}

/// The URL with any password (and any `password=` query parameter)
/// replaced by `***`, for logs and error messages.
///
/// ```
/// use retort_runtime::url::redact;
/// assert_eq!(redact("postgres://app:s3cret@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(redact("mysql://root@localhost/x?password=hunter2&ssl-mode=required"),
///            "mysql://root@localhost/x?password=***&ssl-mode=required");
/// assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
/// ```
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_query(url);
    };
    // The user information ends at the *last* `@`: a password written
    // without percent-encoding may contain `@`, `/` or `?`. Should a path
    // contain `@`, this hides more than the password, never less.
    match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            let userinfo = match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***"),
                None => userinfo.to_owned(),
            };
            format!("{scheme}://{userinfo}{}", redact_query(host))
        }
        None => format!("{scheme}://{}", redact_query(rest)),
    }
}

/// Hides the values of `password=`-like query parameters.
fn redact_query(text: &str) -> String {
    let Some((base, query)) = text.split_once('?') else {
        return text.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if is_secret_key(key) => format!("{key}=***"),
            _ => param.to_owned(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "sslpassword",
    ]
    .contains(&key.as_str())
}

/// Replaces every occurrence of the URL's password in `text` with `***`
/// (for messages from drivers that might echo it).
pub(crate) fn scrub(text: &str, url: &str) -> String {
    match password(url) {
        Some(password) if password.len() >= 3 => text.replace(password, "***"),
        _ => text.to_owned(),
    }
}

fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends() {
        assert_eq!(backend("postgresql://x"), Some(Backend::Postgres));
        assert_eq!(backend("POSTGRES://x"), Some(Backend::Postgres));
        assert_eq!(backend("mariadb://x"), Some(Backend::MySql));
        assert_eq!(backend("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(backend("sqlite:app.db"), Some(Backend::Sqlite));
        assert_eq!(backend("oracle://x"), None);
        assert_eq!(backend("no scheme"), None);
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("postgres://u:p%40ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:pa@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(
            redact("postgres://h/db?user=u&password=x"),
            "postgres://h/db?user=u&password=***"
        );
        assert_eq!(redact("garbage"), "garbage");
        assert_eq!(
            redact("postgres://u:a/b?c@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(
            redact("sqlite://dir/app.db?mode=rwc"),
            "sqlite://dir/app.db?mode=rwc"
        );
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            scrub("failed for s3cret", "mysql://u:s3cret@h/d"),
            "failed for ***"
        );
    }
}
