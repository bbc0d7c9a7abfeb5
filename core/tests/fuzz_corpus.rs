//! Replays the committed fuzz corpus and crash reproducers
//! (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through the same
//! checks as the cargo-fuzz targets, so they guard against regressions in
//! a plain `cargo test`. The settings target is replayed by
//! `settings/tests/fuzz_corpus.rs`.

#[allow(dead_code, unreachable_pub)]
mod checks {
    include!("../../fuzz/checks/core.rs");
}

include!("../../fuzz/checks/replay.rs");

#[test]
fn revision_file_corpus() {
    replay("revision_file", checks::revision_file);
}

#[test]
fn target_grammar_corpus() {
    replay("target_grammar", checks::target_grammar);
}

#[test]
fn template_corpus() {
    replay("template", checks::template);
}

#[test]
fn split_corpus() {
    replay("split", checks::split_statements);
}

/// The fuzz target `split`'s invariants on every string of up to 5
/// characters over the characters that matter to the splitter, in every
/// dialect: the same check on stable, without cargo-fuzz.
#[test]
fn split_invariants_hold_on_every_short_input() {
    const ALPHABET: [char; 12] = [
        'a', 'E', ' ', '\n', ';', '\'', '"', '-', '/', '*', '$', '\\',
    ];
    let mut count = 0usize;
    for len in 0..=5u32 {
        for mut n in 0..ALPHABET.len().pow(len) {
            let mut text = String::new();
            for _ in 0..len {
                text.push(ALPHABET[n % ALPHABET.len()]);
                n /= ALPHABET.len();
            }
            for dialect in checks::DIALECTS {
                checks::split_invariants(&text, dialect);
            }
            count += 1;
        }
    }
    assert_eq!(count, 271_453, "1 + 12 + 12^2 + ... + 12^5 strings");
}

#[test]
fn fixture_set_resolves_the_sample_targets() {
    let set = checks::fixture_set();
    assert_eq!(set.heads().collect::<Vec<_>>(), ["abab0007", "eeee0005"]);
    // `left` runs on to the merge, which needs `right` too.
    assert_eq!(set.plan_upgrade(&[], "left@head").unwrap().steps.len(), 5);
}

/// Found by the `revision_file` target: an upgrade marker on the last line
/// with no final newline gives an empty section whose line is one past the
/// last line (the line after the marker), which the check first rejected.
#[test]
fn empty_upgrade_at_eof_without_newline() {
    let text = "-- Revision ID: e4a14c7f3b45\n-- Revises:\n\n-- migrate:upgrade";
    let rev = retort_core::format::parse("bad.sql", text).unwrap();
    assert_eq!(
        (rev.upgrade.start, rev.upgrade.end),
        (text.len(), text.len())
    );
    assert_eq!(rev.upgrade.line, 5);
    checks::revision_file(text.as_bytes());
}
