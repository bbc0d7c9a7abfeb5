//! What the backends share as code, not as a trait: the statement
//! executor and the driver methods that differ only in types, as macros
//! expanded inside each driver (they name `super::...`, the driver
//! module's items, at the expansion site), and the history chain's tip
//! they advance.

/// Binds a history row ([`NewHistory`]) to `query` in the order of
/// [`HISTORY_COLUMNS`]: the row, then the chain's link `$prev` and the
/// row's hash `$hash`.
macro_rules! bind_history {
    ($query:expr, $h:expr, $prev:expr, $hash:expr) => {{
        let h = $h;
        $query
            .bind(h.revision)
            .bind(h.operation.as_str())
            .bind(h.status.as_str())
            .bind(&h.parents)
            .bind(&h.checksum)
            .bind(&h.lineage)
            .bind(h.statement_count)
            .bind(h.statements_done)
            .bind(h.downgrade_sql)
            .bind(h.duration_ms())
            .bind(super::RETORT_VERSION)
            .bind(i64::from(retort_core::checksum::SCHEME_VERSION))
            .bind(h.error.as_deref())
            .bind(&h.nonce)
            .bind($prev)
            .bind($hash)
    }};
}
pub(crate) use bind_history;

/// The history chain's tip, as the driver last saw it: the `row_hash` of
/// the newest history row (`""` when there is none, or it has no hash).
/// Read with the state under the migration lock, then advanced by every
/// history row the driver writes, so chaining a row costs no round trip.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tip(pub(super) Option<String>);

impl Tip {
    /// The tip read from the table (`None`: no row, or a row without hash).
    pub(crate) fn read(hash: Option<String>) -> Self {
        Self(Some(hash.unwrap_or_default()))
    }
}

/// Defines `exec(conn, statements, tip, op)` for a connection type; the
/// closure runs the prepared history insert and returns the new row's id.
/// History rows are chained onto `tip`, which advances with each.
macro_rules! exec_fn {
    ($conn:ty, |$query:ident, $c:ident| $insert:block) => {
        async fn exec(
            $c: &mut $conn,
            sql: &super::Statements,
            tip: &mut super::Tip,
            op: &super::Op<'_>,
        ) -> Result<Option<i64>, sqlx::Error> {
            use super::Op;
            let q = |text: &str| sqlx::query(sqlx::AssertSqlSafe(text.to_owned()));
            match op {
                Op::Sql(statement) => {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(*statement))
                        .execute(&mut *$c)
                        .await?;
                }
                Op::Version(change) => {
                    if let Some((from, to)) = &change.update {
                        let done = q(&sql.update_version)
                            .bind(to)
                            .bind(from)
                            .execute(&mut *$c)
                            .await?;
                        super::expect_one(done.rows_affected(), "update", from)?;
                    }
                    for id in &change.delete {
                        let done = q(&sql.delete_version).bind(id).execute(&mut *$c).await?;
                        super::expect_one(done.rows_affected(), "delete", id)?;
                    }
                    for id in &change.insert {
                        q(&sql.insert_version).bind(id).execute(&mut *$c).await?;
                    }
                }
                Op::History(h) => {
                    let prev = match &tip.0 {
                        Some(prev) => prev.clone(),
                        // Not read with the state (never the case under the
                        // engine's lock): ask.
                        None => {
                            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                                "SELECT COALESCE({}, '')",
                                sql.last_hash
                            )))
                            .fetch_one(&mut *$c)
                            .await?
                        }
                    };
                    let hash = h.content().hash();
                    let $query = super::bind_history!(q(&sql.insert_history), h, &prev, &hash);
                    let inserted: Result<Option<i64>, sqlx::Error> = $insert;
                    if inserted.is_ok() {
                        tip.0 = Some(hash);
                    }
                    return inserted;
                }
                Op::Progress { id, row, done } => {
                    let hash = row.content_with(row.status, *done, None).hash();
                    q(&sql.progress)
                        .bind(done)
                        .bind(&hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash);
                }
                Op::Finish {
                    id,
                    row,
                    status,
                    done,
                    error,
                    duration_ms,
                } => {
                    let hash = row.content_with(*status, *done, error.as_deref()).hash();
                    q(&sql.finish)
                        .bind(status.as_str())
                        .bind(done)
                        .bind(error.as_deref())
                        .bind(duration_ms)
                        .bind(&hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash);
                }
                Op::Reseal { id, prev, hash } => {
                    q(&sql.reseal)
                        .bind(prev)
                        .bind(hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash.clone());
                }
                Op::Resolve { id, hash } => {
                    q(&sql.resolve)
                        .bind(hash.as_deref())
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash.clone().unwrap_or_default());
                }
                Op::PurgeVersions => {
                    q(&sql.purge).execute(&mut *$c).await?;
                }
            }
            Ok(None)
        }
    };
}
pub(crate) use exec_fn;

/// The driver methods that differ between backends only in types and in
/// how a missing table or column is recognised: expands inside
/// `impl Driver for ...` of a struct with `conn`, `sql: Statements` and
/// `tip: Tip` fields and `missing_table(&sqlx::Error) -> bool` and
/// `missing_column(&sqlx::Error) -> bool` functions in scope.
macro_rules! common_methods {
    () => {
        fn history_table(&self) -> &str {
            &self.sql.history_table
        }

        async fn ensure_tables(&mut self, layout: super::Layout) -> Result<(), Error> {
            use super::HistoryLayout;
            let create = |sql: &String| (!sql.is_empty()).then(|| sql.clone());
            let mut statements: Vec<String> = Vec::new();
            if !layout.version_table {
                statements.extend(create(&self.sql.create_version));
            }
            if layout.history == HistoryLayout::Missing {
                statements.extend(create(&self.sql.create_history));
                statements.extend(create(&self.sql.create_history_index));
            }
            for sql in &statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| Error::database("creating the version and history tables", e))?;
            }
            if layout.history == HistoryLayout::Unchained {
                use sqlx::Connection as _;
                let upgrade = |e| {
                    Error::database(
                        "adding the hash chain's columns to the history table (a bookkeeping-table upgrade)",
                        e,
                    )
                };
                let mut tx = self.conn.begin().await.map_err(upgrade)?;
                for sql in &self.sql.add_chain_columns {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                        .execute(&mut *tx)
                        .await
                        .map_err(upgrade)?;
                }
                tx.commit().await.map_err(upgrade)?;
                tracing::info!("added the hash chain's columns to the history table; rows written before stay unchained");
            }
            Ok(())
        }

        async fn read_state(&mut self) -> Result<super::DbState, Error> {
            use sqlx::Row as _;
            let context = |e| Error::database("reading the version table", e);
            let mut layout = super::Layout {
                version_table: true,
                history: super::HistoryLayout::Chained,
            };
            let rows = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_rows.as_str()))
                .fetch_all(&mut *self.conn)
                .await
            {
                // No history table (a database another tool manages): the
                // rows alone, with no recorded lineage.
                Err(e) if missing_table(&e) => {
                    match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_rows_plain.as_str()))
                        .fetch_all(&mut *self.conn)
                        .await
                    {
                        Err(e) if missing_table(&e) => {
                            layout.version_table = false;
                            Vec::new()
                        }
                        other => other.map_err(context)?,
                    }
                }
                other => other.map_err(context)?,
            };
            let rows = rows
                .iter()
                .map(|r| {
                    Ok(super::Row {
                        version: r.try_get(0)?,
                        lineage: r.try_get(1)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(context)?;
            let history = |e| Error::database("reading the history table", e);
            let last = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_last.as_str()))
                .fetch_optional(&mut *self.conn)
                .await
            {
                Err(e) if missing_table(&e) => {
                    layout.history = super::HistoryLayout::Missing;
                    None
                }
                Err(e) if missing_column(&e) => {
                    layout.history = super::HistoryLayout::Unchained;
                    sqlx::query(sqlx::AssertSqlSafe(self.sql.read_last_unchained.as_str()))
                        .fetch_optional(&mut *self.conn)
                        .await
                        .map_err(history)?
                }
                other => other.map_err(history)?,
            };
            let tip: Option<String> = match &last {
                Some(row) => row.try_get(7).map_err(history)?,
                None => None,
            };
            self.tip = super::Tip::read(tip);
            let unfinished = last
                .map(|r| super::attempt_from(&r, &self.sql.history_table))
                .transpose()?
                .flatten();
            Ok(super::DbState {
                rows,
                unfinished,
                layout,
            })
        }

        async fn read_history(&mut self) -> Result<Vec<super::HistoryEntry>, Error> {
            let history = |e| Error::database("reading the history table", e);
            let rows = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_history.as_str()))
                .fetch_all(&mut *self.conn)
                .await
            {
                Err(e) if missing_table(&e) => return Ok(Vec::new()),
                Err(e) if missing_column(&e) => {
                    sqlx::query(sqlx::AssertSqlSafe(self.sql.read_history_unchained.as_str()))
                        .fetch_all(&mut *self.conn)
                        .await
                        .map_err(history)?
                }
                other => other.map_err(history)?,
            };
            rows.iter()
                .map(|row| super::history_from(row, &self.sql.history_table))
                .collect()
        }

        async fn autocommit(&mut self, op: &super::Op<'_>) -> Result<Option<i64>, sqlx::Error> {
            exec(&mut self.conn, &self.sql, &mut self.tip, op).await
        }
    };
}
pub(crate) use common_methods;

/// `Driver::transaction` as `BEGIN`, each op in turn, `COMMIT` (MySQL and
/// SQLite, which do not check the lock inside transactions; PostgreSQL
/// fuses the bookkeeping and checks the lock inside). The chain's tip
/// stays where it was if the transaction fails.
macro_rules! plain_transaction {
    () => {
        async fn transaction(
            &mut self,
            ops: &[super::Op<'_>],
            _verify_lock: bool,
        ) -> Result<(), super::TxFailure> {
            use sqlx::Connection as _;
            let failed = |op| move |source| super::TxFailure::new(op, source);
            let before = self.tip.clone();
            let result = async {
                let mut tx = self.conn.begin().await.map_err(failed(None))?;
                for (i, op) in ops.iter().enumerate() {
                    exec(&mut tx, &self.sql, &mut self.tip, op)
                        .await
                        .map_err(failed(Some(i)))?;
                }
                tx.commit().await.map_err(failed(None))
            }
            .await;
            if result.is_err() {
                self.tip = before;
            }
            result
        }
    };
}
pub(crate) use plain_transaction;
