//! The SQLite migration lock: an OS lock on the database's real identity.
//!
//! # Design
//!
//! Two migrators must exclude each other whenever they open the same
//! database file, whatever path they use: the same path, a relative one, a
//! symbolic link or a hard link. So the lock is not derived from the path
//! as given.
//!
//! **On Linux (and Android), on a local filesystem** the lock is an
//! `flock(2)` exclusive lock on the database file itself. Every path to
//! the file reaches the same inode, hard links included, and `flock` locks
//! belong to the inode. No file is created, so nothing is left beside the
//! database, and a read-only directory is no obstacle. The kernel releases
//! the lock when the process dies.
//!
//! This has to respect SQLite's own locking. SQLite locks the database file
//! with POSIX (`fcntl`) record locks, and the kernel drops *all* of a
//! process's POSIX locks on a file as soon as the process closes *any*
//! descriptor of that file. Opening the database file to lock it and
//! closing it afterwards could thus silently release the locks of the
//! process's SQLite connections (a pool's, the service's own) while they
//! are in a transaction. So retort opens each database file once per
//! process (found by device and inode, before opening anything) and never
//! closes that descriptor: it is kept for the life of the process, one per
//! database file migrated (a service migrating thousands of SQLite files
//! holds as many descriptors; a deleted file's space returns when the
//! process exits). Unlocking is `flock(LOCK_UN)` on it. On Linux,
//! `flock` and POSIX locks are independent, so the migration lock never
//! blocks SQLite's locking (the migrator's own connection, or readers).
//!
//! `flock` locks belong to an open file description, which all tasks of
//! the process share through that one descriptor; an in-process mutex per
//! database makes tasks of one process wait for each other as well. A
//! guard releases both when dropped, so a panicking or cancelled migration
//! releases the lock too.
//!
//! **Elsewhere** (macOS, the BSDs and Windows, where `flock`-style locks
//! and SQLite's locks interact; and on Linux, network, cluster or
//! userspace filesystems such as NFS, SMB or FUSE, where the kernel
//! emulates `flock` with the same byte-range locks SQLite uses), the lock
//! is an OS lock on the file `<real path>.retort-lock` beside the
//! database's real path, symbolic links resolved. A hard link there is
//! not covered: retort warns when the database file has several links.
//! That file is left behind (a `*.retort-lock` line in `.gitignore` keeps
//! it out of version control), and the directory must be writable.
//!
//! In-memory (and temporary) databases cannot be shared with another
//! process: one in-process mutex serialises their migrations.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::driver::lock::LockWait;
use crate::error::Error;

/// Serialises migrations of in-memory databases within the process (they
/// cannot be shared with another process).
static MEMORY_LOCK: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

/// A held migration lock; dropping it releases the lock.
pub(crate) struct Held {
    kind: Kind,
    what: String,
}

enum Kind {
    /// `flock` on the database file (see the module docs).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Database(database_file::Guard),
    /// An OS lock on `<real path>.retort-lock`.
    LockFile(File),
    /// The in-process lock of in-memory databases.
    Memory(#[allow(dead_code)] OwnedMutexGuard<()>),
}

impl Held {
    /// Releases the lock, reporting an error the OS gives (dropping would
    /// release it too, silently).
    pub(crate) fn release(self) -> Result<(), Error> {
        let what = self.what;
        let result = match &self.kind {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Kind::Database(guard) => guard.unlock(),
            Kind::LockFile(file) => file.unlock(),
            Kind::Memory(_) => Ok(()),
        };
        result.map_err(|error| Error::LockFile {
            what,
            error,
            hint: None,
        })
    }
}

/// Takes the migration lock of the database file `database` (the path
/// SQLite opened; `None` for in-memory and temporary databases), waiting
/// at most `timeout`.
pub(crate) async fn acquire(database: Option<&Path>, timeout: Duration) -> Result<Held, Error> {
    let Some(database) = database else {
        let what = "in-process lock of in-memory SQLite databases".to_owned();
        let guard = tokio::time::timeout(timeout, MEMORY_LOCK.clone().lock_owned())
            .await
            .map_err(|_| Error::LockTimeout {
                what: what.clone(),
                timeout,
            })?;
        return Ok(Held {
            kind: Kind::Memory(guard),
            what,
        });
    };
    let target = Target::of(database)?;
    let mut wait = LockWait::new(target.describe(), timeout);
    loop {
        if let Some(kind) = target.try_lock()? {
            wait.acquired();
            return Ok(Held {
                kind,
                what: target.describe(),
            });
        }
        wait.pause().await?;
    }
}

/// What the lock is taken on.
enum Target {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Database(Arc<database_file::Entry>),
    LockFile(PathBuf),
}

impl Target {
    fn of(database: &Path) -> Result<Self, Error> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if database_file::local_filesystem(database) {
            return database_file::entry(database)
                .map(Self::Database)
                .map_err(|error| Error::LockFile {
                    what: format!("the database file {}", database.display()),
                    error,
                    hint: None,
                });
        }
        Ok(Self::LockFile(lock_file_path(database)?))
    }

    fn describe(&self) -> String {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Self::Database(entry) => format!("lock on the database file {}", entry.path.display()),
            Self::LockFile(path) => format!("lock file {}", path.display()),
        }
    }

    /// One try, never waiting: the lock, or `None` while another holds it.
    fn try_lock(&self) -> Result<Option<Kind>, Error> {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Self::Database(entry) => Ok(database_file::try_lock(entry)
                .map_err(|error| Error::LockFile {
                    what: format!("the database file {}", entry.path.display()),
                    error,
                    hint: None,
                })?
                .map(Kind::Database)),
            Self::LockFile(path) => try_lock_file(path).map(|file| file.map(Kind::LockFile)),
        }
    }
}

/// `<real path>.retort-lock`: symbolic links resolved, so every path
/// through a link takes the same lock. Warns about hard links, which this
/// cannot cover.
fn lock_file_path(database: &Path) -> Result<PathBuf, Error> {
    let real = database.canonicalize().map_err(|error| Error::LockFile {
        what: format!("the database file {}", database.display()),
        error,
        hint: None,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let Ok(meta) = real.metadata()
            && meta.nlink() > 1
        {
            tracing::warn!(
                database = %real.display(),
                links = meta.nlink(),
                "the SQLite database file has several hard links; on this filesystem the migration lock is a file beside this path, which a migration through another link would not see"
            );
        }
    }
    let mut path = real.into_os_string();
    path.push(".retort-lock");
    Ok(PathBuf::from(path))
}

/// The error of the lock file at `path`, with what to do when it cannot be
/// created.
fn lock_file_error(path: &Path, source: std::io::Error) -> Error {
    let hint = match source.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            let dir = path
                .parent()
                .map_or_else(|| ".".to_owned(), |d| d.display().to_string());
            Some(format!(
                "on this filesystem retort takes SQLite's migration lock on a file beside the database, so its directory must be writable: make {dir} writable for the user running retort, or move the database to a writable directory"
            ))
        }
        _ => None,
    };
    Error::LockFile {
        what: format!("lock file {}", path.display()),
        error: source,
        hint,
    }
}

fn try_lock_file(path: &Path) -> Result<Option<File>, Error> {
    let lock_err = |source| lock_file_error(path, source);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(lock_err)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(lock_err(e)),
    }
}

/// The lock on the database file itself (Linux, local filesystems).
#[cfg(any(target_os = "linux", target_os = "android"))]
mod database_file {
    use std::collections::HashMap;
    use std::fs::{File, TryLockError};
    use std::os::unix::fs::MetadataExt as _;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, LazyLock, Mutex as StdMutex};

    use tokio::sync::{Mutex, OwnedMutexGuard};

    /// A database file's descriptor, open for the life of the process (see
    /// the module docs for why it is never closed), and the in-process
    /// mutex of its lock.
    pub(super) struct Entry {
        file: File,
        in_process: Arc<Mutex<()>>,
        /// The path it was first opened by, for messages.
        pub(super) path: PathBuf,
    }

    /// Device and inode.
    type Identity = (u64, u64);

    #[derive(Default)]
    struct Registry {
        entries: HashMap<Identity, Arc<Entry>>,
        /// Descriptors opened while the path was being replaced, whose file
        /// already had an entry: kept open too, since closing them could
        /// drop SQLite's locks on that file.
        spare: Vec<File>,
    }

    static REGISTRY: LazyLock<StdMutex<Registry>> = LazyLock::new(StdMutex::default);

    /// The entry of the file at `path` (following symbolic links), opening
    /// it only if this process has no descriptor of it yet.
    pub(super) fn entry(path: &Path) -> std::io::Result<Arc<Entry>> {
        let meta = std::fs::metadata(path)?;
        let mut registry = REGISTRY
            .lock()
            .map_err(|_| std::io::Error::other("the SQLite lock registry is poisoned"))?;
        if let Some(entry) = registry.entries.get(&(meta.dev(), meta.ino())) {
            return Ok(Arc::clone(entry));
        }
        let file = File::open(path)?;
        let opened = file.metadata()?;
        let identity = (opened.dev(), opened.ino());
        if let Some(entry) = registry.entries.get(&identity) {
            let entry = Arc::clone(entry);
            registry.spare.push(file);
            return Ok(entry);
        }
        let entry = Arc::new(Entry {
            file,
            in_process: Arc::new(Mutex::new(())),
            path: path.to_owned(),
        });
        registry.entries.insert(identity, Arc::clone(&entry));
        Ok(entry)
    }

    /// The held lock: the in-process mutex and the `flock`, both released
    /// on drop.
    pub(super) struct Guard {
        entry: Arc<Entry>,
        _in_process: OwnedMutexGuard<()>,
    }

    impl Guard {
        pub(super) fn unlock(&self) -> std::io::Result<()> {
            self.entry.file.unlock()
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            // Before the in-process mutex (a field, dropped after this), so
            // that the next task of this process finds the file unlocked.
            let _ = self.entry.file.unlock();
        }
    }

    /// One try at the in-process mutex, then at the `flock`.
    pub(super) fn try_lock(entry: &Arc<Entry>) -> std::io::Result<Option<Guard>> {
        let Ok(in_process) = Arc::clone(&entry.in_process).try_lock_owned() else {
            return Ok(None);
        };
        match entry.file.try_lock() {
            Ok(()) => Ok(Some(Guard {
                entry: Arc::clone(entry),
                _in_process: in_process,
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Filesystems where `flock` is the kernel's own lock, independent of
    /// the POSIX locks SQLite takes. Any other (NFS, SMB, FUSE, 9p, Ceph,
    /// ...), or one that cannot be told, gets the lock file instead.
    const LOCAL: [&str; 18] = [
        "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "overlay", "zfs", "f2fs",
        "bcachefs", "jfs", "reiserfs", "nilfs2", "vfat", "msdos", "exfat", "ntfs3",
    ];

    /// True when the file at `path` is on a local filesystem of [`LOCAL`].
    pub(super) fn local_filesystem(path: &Path) -> bool {
        let Ok(real) = path.canonicalize() else {
            return false;
        };
        let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
            return false;
        };
        filesystem_of(&real, &mounts).is_some_and(|fs| LOCAL.contains(&fs))
    }

    /// The type of the filesystem mounted deepest above `path`, from the
    /// text of `/proc/self/mountinfo` (`proc(5)`): later lines mount over
    /// earlier ones.
    pub(super) fn filesystem_of<'m>(path: &Path, mountinfo: &'m str) -> Option<&'m str> {
        let mut best: Option<(usize, &str)> = None;
        for line in mountinfo.lines() {
            let Some((fields, rest)) = line.split_once(" - ") else {
                continue;
            };
            let (Some(mount_point), Some(fs)) = (fields.split(' ').nth(4), rest.split(' ').next())
            else {
                continue;
            };
            let mount_point = unescape(mount_point);
            let depth = Path::new(&mount_point).components().count();
            if path.starts_with(&mount_point) && best.is_none_or(|(d, _)| depth >= d) {
                best = Some((depth, fs));
            }
        }
        best.map(|(_, fs)| fs)
    }

    /// Undoes mountinfo's octal escapes (`\040` for a space).
    fn unescape(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = bytes.get(i + 1..i + 4).and_then(|digits| {
                let digits = std::str::from_utf8(digits).ok()?;
                u8::from_str_radix(digits, 8).ok()
            });
            match (bytes[i], escaped) {
                (b'\\', Some(byte)) => {
                    out.push(byte);
                    i += 4;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
24 22 0:45 / /srv/nfs rw - nfs4 server:/export rw,vers=4.2
25 24 0:46 / /srv/nfs/local rw - tmpfs tmpfs rw
26 22 0:47 / /mnt/my\\040disk rw - fuse.sshfs host:/ rw
27 22 0:48 / /srv/nfs rw - xfs /dev/sdb rw
";

        #[test]
        fn the_deepest_and_latest_mount_wins() {
            let fs = |p: &str| filesystem_of(Path::new(p), MOUNTINFO);
            assert_eq!(fs("/home/app/app.db"), Some("ext4"));
            // Mounted over by the later xfs line.
            assert_eq!(fs("/srv/nfs/app.db"), Some("xfs"));
            assert_eq!(fs("/srv/nfs/local/app.db"), Some("tmpfs"));
            assert_eq!(fs("/srv/nfsx/app.db"), Some("ext4"));
            assert_eq!(fs("/mnt/my disk/app.db"), Some("fuse.sshfs"));
            assert_eq!(filesystem_of(Path::new("/x"), "garbage\n"), None);
        }

        #[test]
        fn one_descriptor_per_file_whatever_the_path() {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("app.db");
            std::fs::write(&db, b"").unwrap();
            let link = dir.path().join("link.db");
            std::os::unix::fs::symlink(&db, &link).unwrap();
            let hard = dir.path().join("hard.db");
            std::fs::hard_link(&db, &hard).unwrap();
            let a = entry(&db).unwrap();
            assert!(Arc::ptr_eq(&a, &entry(&link).unwrap()));
            assert!(Arc::ptr_eq(&a, &entry(&hard).unwrap()));
            let held = try_lock(&a).unwrap().expect("free");
            assert!(try_lock(&entry(&hard).unwrap()).unwrap().is_none());
            drop(held);
            assert!(try_lock(&entry(&link).unwrap()).unwrap().is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_that_cannot_be_created_says_what_to_do() {
        for kind in [
            std::io::ErrorKind::PermissionDenied,
            std::io::ErrorKind::ReadOnlyFilesystem,
        ] {
            let err = lock_file_error(
                Path::new("/srv/ro/app.db.retort-lock"),
                std::io::Error::from(kind),
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "cannot use lock file /srv/ro/app.db.retort-lock: {}; on this filesystem retort takes SQLite's migration lock on a file beside the database, so its directory must be writable: make /srv/ro writable for the user running retort, or move the database to a writable directory",
                    std::io::Error::from(kind)
                )
            );
        }
        let other = lock_file_error(
            Path::new("/srv/app.db.retort-lock"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(
            other.to_string(),
            "cannot use lock file /srv/app.db.retort-lock: entity not found"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_lock_file_is_beside_the_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let db = real.join("app.db");
        std::fs::write(&db, b"").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let lock = lock_file_path(&link).unwrap();
        assert_eq!(
            lock,
            db.canonicalize().unwrap().with_extension("db.retort-lock")
        );
        let held = try_lock_file(&lock).unwrap().expect("free");
        assert!(
            try_lock_file(&lock_file_path(&db).unwrap())
                .unwrap()
                .is_none()
        );
        drop(held);
    }
}
