//! What the drivers share about the migration lock: the dedicated
//! connection a server-side lock lives on, waiting for the lock, and the
//! error of a lost lock.

use std::time::{Duration, Instant};

use crate::error::Error;

/// The connection a server-side lock lives on: a dedicated one opened on
/// first use (pools and URLs), or, without connect options, the work
/// connection itself (a caller's borrowed connection). A dedicated
/// connection dropped by a panic or a cancelled future is closed, which
/// makes the server release the lock.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) struct LockConnection<C: sqlx::Connection> {
    conn: Option<C>,
    options: Option<std::sync::Arc<C::Options>>,
    connect_timeout: Duration,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl<C: sqlx::Connection> LockConnection<C> {
    pub(crate) fn new(
        options: Option<std::sync::Arc<C::Options>>,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            conn: None,
            options,
            connect_timeout,
        }
    }

    /// Opens the dedicated connection if there is to be one, waiting at
    /// most the connect timeout.
    pub(crate) async fn open(&mut self) -> Result<(), Error> {
        use sqlx::ConnectOptions as _;
        if self.conn.is_none()
            && let Some(options) = &self.options
        {
            let conn = match tokio::time::timeout(self.connect_timeout, C::connect_with(options))
                .await
            {
                Ok(conn) => conn.map_err(|e| Error::database("opening the lock connection", e))?,
                Err(_) => {
                    return Err(Error::ConnectTimeout {
                        url: crate::url::redact(options.to_url_lossy().as_str()),
                        connection: Some("the migration lock's connection"),
                        timeout: self.connect_timeout,
                    });
                }
            };
            self.conn = Some(conn);
        }
        Ok(())
    }

    /// True once a dedicated connection is open (the lock then lives on a
    /// session of its own, not on the work connection).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn is_dedicated(&self) -> bool {
        self.conn.is_some()
    }

    /// The connection to lock on.
    pub(crate) fn get<'a>(&'a mut self, work: &'a mut C) -> &'a mut C {
        match &mut self.conn {
            Some(conn) => conn,
            None => work,
        }
    }

    /// Closes the dedicated connection.
    pub(crate) async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}

/// Waiting for the migration lock: the driver tries to take it (never with
/// a blocking wait on the server) and calls [`LockWait::pause`] between
/// tries, backing off from 20 ms to 1 s, for at most the timeout. Short
/// tries keep waiting replicas from holding a snapshot that `CREATE INDEX
/// CONCURRENTLY` would wait for, the deadlock Flyway users report.
pub(crate) struct LockWait {
    what: String,
    timeout: Duration,
    deadline: Instant,
    pause: Duration,
    waited: bool,
}

impl LockWait {
    pub(crate) fn new(what: String, timeout: Duration) -> Self {
        Self {
            what,
            timeout,
            deadline: Instant::now() + timeout,
            pause: Duration::from_millis(20),
            waited: false,
        }
    }

    /// Sleeps before the next try, or fails once the timeout is spent.
    pub(crate) async fn pause(&mut self) -> Result<(), Error> {
        if !self.waited {
            tracing::info!(
                lock = %self.what,
                timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                "waiting for the migration lock held by another process"
            );
            self.waited = true;
        }
        let now = Instant::now();
        if now >= self.deadline {
            return Err(Error::LockTimeout {
                what: self.what.clone(),
                timeout: self.timeout,
            });
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(1));
        Ok(())
    }

    /// Logs the acquisition after a wait.
    pub(crate) fn acquired(&self) {
        if self.waited {
            tracing::info!(lock = %self.what, "acquired the migration lock");
        }
    }
}

/// The error of [`Driver::check_lock`] when the lock is gone (`source`:
/// the check itself failed, typically because the session is gone too).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn lock_lost(what: &str, source: Option<sqlx::Error>) -> Error {
    Error::LockLost {
        what: what.to_owned(),
        detail: source.map(|e| crate::error::describe(&e).1),
        rolled_back: None,
        applied: Vec::new(),
    }
}
