//! Where a fleet's target names come from besides a list: a file of one
//! name per line, or a query on a control database.

use retort_runtime::url::{Backend, backend, redact};

use crate::error::QueryError;

/// The names in a targets file: one per line; blank lines and lines
/// starting with `#` are skipped, and each name is trimmed.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Runs `sql` on the control database `url` and returns the first column
/// of each row, which must be text (URLs, database or schema names).
/// NULLs are an error: a tenant without a name cannot be migrated.
pub async fn query_targets(url: &str, sql: &str) -> Result<Vec<String>, QueryError> {
    let failed = |message: String| QueryError {
        url: redact(url),
        message,
    };
    let describe = |e: sqlx::Error| -> String {
        match e {
            sqlx::Error::ColumnDecode { source, .. } => format!(
                "the query must return one text column of names (URLs, databases or schemas): {source}"
            ),
            sqlx::Error::ColumnNotFound(_) | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
                "the query returns no column; it must return one text column of names".to_owned()
            }
            other => other.to_string(),
        }
    };
    let rows: Vec<Option<String>> = match backend(url) {
        #[cfg(feature = "postgres")]
        Some(Backend::Postgres) => {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(url)
                .await
                .map_err(|e| failed(describe(e)))?;
            let rows = fetch(&mut conn, sql).await;
            let _ = conn.close().await;
            rows.map_err(|e| failed(describe(e)))?
        }
        #[cfg(feature = "mysql")]
        Some(Backend::MySql) => {
            use sqlx::Connection as _;
            let mut conn = sqlx::MySqlConnection::connect(url)
                .await
                .map_err(|e| failed(describe(e)))?;
            let rows = fetch(&mut conn, sql).await;
            let _ = conn.close().await;
            rows.map_err(|e| failed(describe(e)))?
        }
        #[cfg(feature = "sqlite")]
        Some(Backend::Sqlite) => {
            use sqlx::Connection as _;
            let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
                .map_err(|e| failed(describe(e)))?
                .read_only(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .map_err(|e| failed(describe(e)))?;
            let rows = fetch(&mut conn, sql).await;
            let _ = conn.close().await;
            rows.map_err(|e| failed(describe(e)))?
        }
        // Reachable in a build without every backend.
        #[allow(unreachable_patterns)]
        Some(other) => {
            return Err(failed(format!(
                "this build has no {} support (enable its feature)",
                other.name()
            )));
        }
        None => return Err(failed("not a database URL".to_owned())),
    };
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            row.ok_or_else(|| {
                failed(format!(
                    "row {} is NULL; every row must name a target",
                    i + 1
                ))
            })
        })
        .collect()
}

/// The first column of every row of `sql`, as text.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn fetch<'c, C>(conn: &'c mut C, sql: &str) -> Result<Vec<Option<String>>, sqlx::Error>
where
    &'c mut C: sqlx::Executor<'c>,
    for<'r> Option<String>: sqlx::Decode<'r, <&'c mut C as sqlx::Executor<'c>>::Database>
        + sqlx::Type<<&'c mut C as sqlx::Executor<'c>>::Database>,
    usize: sqlx::ColumnIndex<<<&'c mut C as sqlx::Executor<'c>>::Database as sqlx::Database>::Row>,
    <<&'c mut C as sqlx::Executor<'c>>::Database as sqlx::Database>::Arguments:
        sqlx::IntoArguments<<&'c mut C as sqlx::Executor<'c>>::Database>,
{
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_skips_blank_lines_and_comments() {
        let text = "# tenants\nacme\n\n  globex  \n#old\ninitech\n";
        assert_eq!(parse_list(text), ["acme", "globex", "initech"]);
    }

    #[tokio::test]
    async fn a_query_returns_its_first_column_and_refuses_nulls_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/control.db?mode=rwc", dir.path().display());
        {
            use sqlx::Connection as _;
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(
                "CREATE TABLE tenants (id INTEGER, name TEXT); \
                 INSERT INTO tenants VALUES (1, 'acme'), (2, 'globex'), (3, NULL);",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let names = query_targets(
            &url,
            "SELECT name FROM tenants WHERE name IS NOT NULL ORDER BY id",
        )
        .await
        .unwrap();
        assert_eq!(names, ["acme", "globex"]);
        let err = query_targets(&url, "SELECT name FROM tenants ORDER BY id")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 3 is NULL"), "{err}");
        let err = query_targets(&url, "SELECT id FROM tenants")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("one text column"), "{err}");
        let err = query_targets(&url, "SELECT nme FROM tenants")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("nme"), "{err}");
    }
}
