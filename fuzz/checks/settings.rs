// The checks run by the `settings` fuzz target. Included (not compiled as
// a module of its own) by `fuzz/src/lib.rs` and
// `settings/tests/fuzz_corpus.rs`: keep it free of anything but
// `retort_settings`, `retort_runtime` and `std`.

use retort_settings::{Secret, Settings};
use retort_runtime::url::{backend, redact};

/// The password of `url` as `redact` must hide it: after the first `:` of
/// the user information, which ends at the last `@` after `://`; with the
/// URL without it.
fn password_of(url: &str) -> Option<(&str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (userinfo, host) = rest.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    Some((password, format!("{scheme}://{user}:@{host}")))
}

/// `redact` never panics, and never returns a password of 4 characters or
/// more (unless that text also appears elsewhere in the URL, or could be
/// made of the `***` it writes).
pub fn check_redact(url: &str) {
    let redacted = redact(url);
    let _ = backend(url);
    if let Some((password, without)) = password_of(url)
        && password.chars().count() >= 4
        && !password.contains('*')
        && !without.contains(password)
    {
        assert!(
            !redacted.contains(password),
            "redact({url:?}) = {redacted:?} shows the password {password:?}"
        );
    }
}

/// Arbitrary text as `retort.toml`: parsing, selecting each environment and
/// resolving the database URL (with an empty environment, no `.env` file
/// and a fixed password source, so nothing outside is read) never panic;
/// the URL and the text itself are redacted without showing a password.
pub fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_redact(text);
    for line in text.lines() {
        check_redact(line.trim());
    }
    let Ok(settings) = text.parse::<Settings>() else {
        return;
    };
    let mut all = vec![settings.clone()];
    for name in settings.environments() {
        if let Ok(env) = settings.clone().with_env(name) {
            all.push(env);
        }
    }
    for s in all {
        let s = s
            .with_vars(|_: &str| None)
            .without_dotenv()
            .with_secret_source(|_: &Settings| Ok(Some(Secret::new("fuzz-password"))));
        let _ = s.config();
        let _ = s.migrations_dir();
        let _ = s.template();
        let _ = s.file_template();
        let _ = format!("{s:?}");
        if let Ok(url) = s.database_url() {
            check_redact(url.expose());
            let _ = (url.backend(), url.source().to_string(), url.to_string());
        }
    }
}
