//! [`Lookup`]: where resolution reads from besides the settings file: the
//! environment variables, the `.env` file and the directory that relative
//! paths start from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::env::{Env, ProcessEnv, read_dotenv};
use super::error::Result;

/// The process variables (or injected ones), the `.env` file, and the
/// base directory of relative paths.
#[derive(Clone)]
pub(crate) struct Lookup {
    vars: Arc<dyn Env>,
    dotenv: Option<PathBuf>,
    base_dir: Option<PathBuf>,
}

impl Lookup {
    /// The process environment, no `.env` file, paths relative to
    /// `base_dir` (else to the current directory).
    pub(crate) fn new(base_dir: Option<PathBuf>) -> Self {
        Self {
            vars: Arc::new(ProcessEnv),
            dotenv: None,
            base_dir,
        }
    }

    pub(crate) fn set_vars(&mut self, vars: impl Env + 'static) {
        self.vars = Arc::new(vars);
    }

    pub(crate) fn set_dotenv(&mut self, path: Option<PathBuf>) {
        self.dotenv = path;
    }

    /// The `.env` file that is read, if any.
    pub(crate) fn dotenv(&self) -> Option<&Path> {
        self.dotenv.as_deref()
    }

    /// A variable of the environment (not the `.env` file).
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        self.vars.var(name)
    }

    /// The variables of the `.env` file, if one is read (a missing file is
    /// an empty map).
    pub(crate) fn dotenv_vars(&self) -> Result<Option<HashMap<String, String>>> {
        self.dotenv.as_deref().map(read_dotenv).transpose()
    }

    /// A variable from the environment, else from the `.env` file (which is
    /// skipped when it cannot be read).
    #[cfg_attr(not(feature = "vault"), allow(dead_code))]
    pub(crate) fn var_or_dotenv(&self, var: &str) -> Option<String> {
        self.vars.var(var).or_else(|| {
            let path = self.dotenv.as_ref()?;
            read_dotenv(path).ok()?.remove(var)
        })
    }

    /// `path`, relative to the base directory when it is relative.
    pub(crate) fn resolve_path(&self, path: &Path) -> PathBuf {
        match &self.base_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_owned(),
        }
    }
}
