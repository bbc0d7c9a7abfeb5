//! What `embed_migrations!` embeds equals what the runtime loader reads
//! from the same directory, field by field; a CRLF checkout of a revision
//! has the same checksum as the LF one.

use std::path::Path;

use retort::Revision;

static SAMPLE: retort::Migrations = retort::embed_migrations!("migrations");
static CRLF: retort::Migrations = retort::embed_migrations!("tests/fixtures/crlf");
static LF: retort::Migrations = retort::embed_migrations!("tests/fixtures/lf");

fn loaded(dir: &str) -> retort::MigrationSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    retort::load::load_dir(&root.join(dir), dir).unwrap()
}

fn assert_same(embedded: &Revision, loaded: &Revision) {
    let id = embedded.id();
    assert_eq!(embedded.id(), loaded.id());
    assert!(embedded.parents().eq(loaded.parents()), "{id}: parents");
    assert!(
        embedded.depends_on().eq(loaded.depends_on()),
        "{id}: depends_on"
    );
    assert!(
        embedded.branch_labels().eq(loaded.branch_labels()),
        "{id}: branch labels"
    );
    assert_eq!(embedded.message(), loaded.message(), "{id}: message");
    assert_eq!(
        embedded.create_date(),
        loaded.create_date(),
        "{id}: create date"
    );
    assert_eq!(
        embedded.is_transactional(),
        loaded.is_transactional(),
        "{id}: transactional"
    );
    assert_eq!(embedded.path(), loaded.path(), "{id}: path");
    assert_eq!(embedded.source(), loaded.source(), "{id}: source");
    assert_eq!(
        embedded.upgrade_span(),
        loaded.upgrade_span(),
        "{id}: upgrade span"
    );
    assert_eq!(
        embedded.upgrade_sql(),
        loaded.upgrade_sql(),
        "{id}: upgrade SQL"
    );
    assert_eq!(
        embedded.downgrade_span(),
        loaded.downgrade_span(),
        "{id}: downgrade span"
    );
    assert_eq!(
        embedded.downgrade_sql(),
        loaded.downgrade_sql(),
        "{id}: downgrade SQL"
    );
    assert_eq!(embedded.checksum(), loaded.checksum(), "{id}: checksum");
    assert_eq!(embedded, loaded, "{id}: whole revision");
}

#[test]
fn embedded_revisions_equal_the_loaded_ones() {
    for (embedded, dir) in [
        (&SAMPLE, "migrations"),
        (&CRLF, "tests/fixtures/crlf"),
        (&LF, "tests/fixtures/lf"),
    ] {
        let loaded = loaded(dir);
        assert_eq!(embedded.len(), loaded.len(), "{dir}");
        assert!(embedded.heads().eq(loaded.heads()), "{dir}: heads");
        for (e, l) in embedded.revisions().iter().zip(loaded.revisions()) {
            assert_same(e, l);
            // Heads' hashes are embedded, the others computed at run time:
            // both must be the loader's.
            assert!(
                embedded.set().lineage(e.id()).is_some(),
                "{dir}: {}",
                e.id()
            );
            assert_eq!(
                embedded.set().lineage(e.id()),
                loaded.lineage(l.id()),
                "{dir}: {}: lineage hash",
                e.id()
            );
        }
    }
}

#[test]
fn crlf_checkout_has_the_lf_checksum() {
    let crlf = &CRLF.revisions()[0];
    let lf = &LF.revisions()[0];
    // The fixture really is CRLF in the checkout (.gitattributes: -text).
    assert!(
        crlf.source().contains("\r\n"),
        "the CRLF fixture lost its line endings"
    );
    assert!(!lf.source().contains('\r'));
    assert_ne!(crlf.source(), lf.source());
    assert_eq!(crlf.checksum(), lf.checksum());
    assert_eq!(CRLF.set().lineage(crlf.id()), LF.set().lineage(lf.id()));
    assert_eq!(crlf.upgrade_sql().replace("\r\n", "\n"), lf.upgrade_sql());
    assert_eq!(crlf.upgrade_span().line, lf.upgrade_span().line);
}
