//! Alembic conformance: the planner against the case table of the Alembic
//! 1.19.1 reference (`alembic-semantics.md` §3; `TVT` is Alembic's
//! `tests/test_version_traversal.py`, `TR` its `tests/test_revision.py`,
//! `#N` the row of the note's case table).
//!
//! Every case names a graph, the version-table rows before, an operation
//! (upgrade, downgrade or stamp to a target) and either the exact steps in
//! execution order and the rows after, or the kind of error and words its
//! message must contain. Where retort deliberately departs from Alembic (see
//! the module documentation of `retort_core::target`) the case says
//! `deviation: ...` and expects retort's error.
//!
//! Revision ids and load order: Alembic breaks ties (the order of `heads`,
//! `bases`, and of `_topological_sort`'s start heads) by load order, which
//! for its default file names is the order of the ids; retort sorts the set
//! by id. So each graph maps the names used in the note to ids whose sorted
//! order is the note's load order (see [`Ids`]). Cases are written with the
//! note's names; targets, rows and expected message words are translated
//! word by word, and failures are reported with names again.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use retort_core::MigrationSet;
use retort_core::plan::{Direction, PlanError, VersionChange};
use retort_core::target::TargetError;

// ---------------------------------------------------------------------------
// Graphs (note §2), listed in the note's load order.
// ---------------------------------------------------------------------------

/// How the note's revision names become revision ids.
enum Ids {
    /// The name is the id. Used where the cases depend on the spelling of the
    /// ids (prefix matching); the graph's comment explains why the load
    /// order still agrees.
    Same,
    /// `{position:02}{name}`: sorting the ids reproduces the load order.
    Keyed,
    /// Names mapped to the ids of the Alembic test.
    Table(&'static [(&'static str, &'static str)]),
}

struct Rev {
    name: &'static str,
    parents: &'static [&'static str],
    deps: &'static [&'static str],
    labels: &'static [&'static str],
}

const fn rev(
    name: &'static str,
    parents: &'static [&'static str],
    deps: &'static [&'static str],
    labels: &'static [&'static str],
) -> Rev {
    Rev {
        name,
        parents,
        deps,
        labels,
    }
}

struct GraphDef {
    name: &'static str,
    ids: Ids,
    revs: &'static [Rev],
}

/// G1 LIN, `RevisionPathTest`, with the test's real ids (the prefix cases
/// need them). Sorted, the ids give the order D, E, B, C, A rather than the
/// load order A..E, but on a single chain load order breaks no tie: one
/// head, one base, and `_topological_sort` never has two pending chains.
static LIN: GraphDef = GraphDef {
    name: "G1 LIN",
    ids: Ids::Table(&[
        ("A", "e6239818bb3a"),
        ("B", "548bbb905360"),
        ("C", "b7ea43dc85e4"),
        ("D", "1bbe33445780"),
        ("E", "3975fb1a0125"),
    ]),
    revs: &[
        rev("A", &[], &[], &[]),
        rev("B", &["A"], &[], &[]),
        rev("C", &["B"], &[], &[]),
        rev("D", &["C"], &[], &[]),
        rev("E", &["D"], &[], &[]),
    ],
};

/// G2 BR, `BranchedPathTest`. Keyed ids: `00a`, `01b`, `02c1`, `03d1`,
/// `04c2`, `05d2`.
static BR: GraphDef = GraphDef {
    name: "G2 BR",
    ids: Ids::Keyed,
    revs: &[
        rev("a", &[], &[], &[]),
        rev("b", &["a"], &[], &[]),
        rev("c1", &["b"], &[], &["c1branch"]),
        rev("d1", &["c1"], &[], &[]),
        rev("c2", &["b"], &[], &["c2branch"]),
        rev("d2", &["c2"], &[], &[]),
    ],
};

/// G2d BRDEP, `BranchedPathTestCrossDependencies`: BR with `d2` depending
/// on `c1`. Keyed ids as for BR.
static BRDEP: GraphDef = GraphDef {
    name: "G2d BRDEP",
    ids: Ids::Keyed,
    revs: &[
        rev("a", &[], &[], &[]),
        rev("b", &["a"], &[], &[]),
        rev("c1", &["b"], &[], &["c1branch"]),
        rev("d1", &["c1"], &[], &[]),
        rev("c2", &["b"], &[], &["c2branch"]),
        rev("d2", &["c2"], &["c1"], &[]),
    ],
};

/// G3 MRG, `MergedPathTest`. Keyed ids.
static MRG: GraphDef = GraphDef {
    name: "G3 MRG",
    ids: Ids::Keyed,
    revs: &[
        rev("a", &[], &[], &[]),
        rev("b", &["a"], &[], &[]),
        rev("c1", &["b"], &[], &[]),
        rev("d1", &["c1"], &[], &[]),
        rev("c2", &["b"], &[], &["c2branch"]),
        rev("d2", &["c2"], &[], &[]),
        rev("e", &["d1", "d2"], &[], &[]),
        rev("f", &["e"], &[], &[]),
    ],
};

/// G4 ROOTS, `LabeledBranchTest`, with the test's ids (the prefix cases
/// `some`, `someoth`, `sos` and `ebr` need them). Sorted, the ids give
/// a, b, c, d, e, f, somelongername, someothername instead of the load
/// order a, b, somelongername, c, d, e, someothername, f; the order among the
/// heads (c before f) and among the bases (a before d) is the same, and each
/// root is a single chain, so every tie Alembic breaks by load order is
/// broken the same way.
static ROOTS: GraphDef = GraphDef {
    name: "G4 ROOTS",
    ids: Ids::Same,
    revs: &[
        rev("a", &[], &[], &["abranch"]),
        rev("b", &["a"], &[], &[]),
        rev("somelongername", &["b"], &[], &[]),
        rev("c", &["somelongername"], &[], &[]),
        rev("d", &[], &[], &[]),
        rev("e", &["d"], &[], &["ebranch"]),
        rev("someothername", &["e"], &[], &[]),
        rev("f", &["someothername"], &[], &[]),
    ],
};

/// G5 XDEP, `MultipleBaseCrossDependencyTestOne`. Keyed ids (`00base1` ..
/// `12b3`): here load order matters, the heads are b1a, b1b, d2, b3 in that
/// order while the plain ids would sort b3 before d2.
static XDEP: GraphDef = GraphDef {
    name: "G5 XDEP",
    ids: Ids::Keyed,
    revs: &[
        rev("base1", &[], &[], &["b_1"]),
        rev("a1a", &["base1"], &[], &[]),
        rev("a1b", &["base1"], &[], &[]),
        rev("b1a", &["a1a"], &[], &[]),
        rev("b1b", &["a1b"], &["a3"], &[]),
        rev("base2", &[], &[], &["b_2"]),
        rev("a2", &["base2"], &[], &[]),
        rev("b2", &["a2"], &[], &[]),
        rev("c2", &["b2"], &["a3"], &[]),
        rev("d2", &["c2"], &[], &[]),
        rev("base3", &[], &[], &["b_3"]),
        rev("a3", &["base3"], &[], &[]),
        rev("b3", &["a3"], &[], &[]),
    ],
};

/// G6 3WAY, `BranchFrom3WayMergepointTest`. Keyed ids.
static WAY3: GraphDef = GraphDef {
    name: "G6 3WAY",
    ids: Ids::Keyed,
    revs: &[
        rev("a1", &[], &[], &[]),
        rev("b1", &["a1"], &[], &[]),
        rev("c1", &["b1"], &[], &[]),
        rev("a2", &[], &[], &[]),
        rev("b2", &["a2"], &[], &[]),
        rev("c2", &["b2"], &[], &[]),
        rev("a3", &[], &[], &[]),
        rev("b3", &["a3"], &[], &[]),
        rev("c3", &["b3"], &[], &[]),
        rev("d1", &["c1", "c2", "c3"], &[], &[]),
        rev("d2", &["c2"], &[], &[]),
        rev("d3", &["c3"], &[], &[]),
    ],
};

/// DEPROOT: two roots, `y1` depending on `x1` (effective heads). Keyed ids.
static DEPROOT: GraphDef = GraphDef {
    name: "DEPROOT",
    ids: Ids::Keyed,
    revs: &[rev("x1", &[], &[], &[]), rev("y1", &[], &["x1"], &[])],
};

// ---------------------------------------------------------------------------
// Building sets in memory.
// ---------------------------------------------------------------------------

struct Built {
    set: MigrationSet,
    to_id: HashMap<String, String>,
    to_name: HashMap<String, String>,
}

impl GraphDef {
    fn id_of(&self, position: usize, name: &str) -> String {
        match self.ids {
            Ids::Same => name.to_owned(),
            Ids::Keyed => format!("{position:02}{name}"),
            Ids::Table(table) => table
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, id)| (*id).to_owned())
                .unwrap_or_else(|| panic!("{}: no id for `{name}`", self.name)),
        }
    }

    fn build(&self) -> Built {
        let to_id: HashMap<String, String> = self
            .revs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.to_owned(), self.id_of(i, r.name)))
            .collect();
        let to_name = to_id.iter().map(|(n, i)| (i.clone(), n.clone())).collect();
        let map = |names: &[&str]| {
            names
                .iter()
                .map(|n| translate(n, &to_id))
                .collect::<Vec<_>>()
        };
        let files = self
            .revs
            .iter()
            .map(|r| {
                let id = &to_id[r.name];
                let text = revision_text(id, &map(r.parents), &map(r.deps), r.labels);
                let path = format!("migrations/{id}.sql");
                let parsed = retort_core::format::parse(&path, &text)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{text}", self.name));
                (path, text, parsed)
            })
            .collect();
        let set = MigrationSet::from_parsed(files)
            .unwrap_or_else(|e| panic!("{}: invalid graph: {e:?}", self.name));
        Built {
            set,
            to_id,
            to_name,
        }
    }
}

/// The text of one revision file.
fn revision_text(id: &str, parents: &[String], deps: &[String], labels: &[&str]) -> String {
    let mut text = format!("-- Revision ID: {id}\n-- Revises: {}\n", parents.join(", "));
    if !deps.is_empty() {
        let _ = writeln!(text, "-- Depends On: {}", deps.join(", "));
    }
    if !labels.is_empty() {
        let _ = writeln!(text, "-- Branch Labels: {}", labels.join(", "));
    }
    let _ = write!(
        text,
        "\n-- migrate:upgrade\nSELECT 'upgrade {id}';\n\n-- migrate:downgrade\nSELECT 'downgrade {id}';\n"
    );
    text
}

/// Replaces every word (run of letters, digits and `_`) found in `map`.
fn translate(text: &str, map: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(map.get(word.as_str()).map_or(word.as_str(), String::as_str));
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

// ---------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Op {
    Up(&'static str),
    Down(&'static str),
    Stamp(&'static str),
}

/// The `TargetError` variant expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Syntax,
    Unknown,
    Ambiguous,
    NoSuchBranch,
    NotInBranch,
    MultipleHeads,
    AmbiguousWalk,
    OutOfRange,
    AmbiguousCurrent,
    NothingCurrent,
    WrongDirection,
}

fn kind_of(e: &PlanError) -> Option<Kind> {
    let PlanError::Target(t) = e else {
        return None;
    };
    Some(match t {
        TargetError::Syntax { .. } => Kind::Syntax,
        TargetError::Unknown { .. } => Kind::Unknown,
        TargetError::Ambiguous { .. } => Kind::Ambiguous,
        TargetError::NoSuchBranch { .. } => Kind::NoSuchBranch,
        TargetError::NotInBranch { .. } => Kind::NotInBranch,
        TargetError::MultipleHeads { .. } => Kind::MultipleHeads,
        TargetError::AmbiguousWalk { .. } => Kind::AmbiguousWalk,
        TargetError::OutOfRange { .. } => Kind::OutOfRange,
        TargetError::AmbiguousCurrent { .. } => Kind::AmbiguousCurrent,
        TargetError::NothingCurrent { .. } => Kind::NothingCurrent,
        TargetError::WrongDirection { .. } => Kind::WrongDirection,
        _ => return None,
    })
}

enum Expect {
    /// The steps in execution order, and the rows after.
    Steps(&'static [&'static str], &'static [&'static str]),
    /// Each step with the rows after it.
    Trace(&'static [(&'static str, &'static [&'static str])]),
    /// A `PlanError::Target` of this kind whose message has these words.
    Error(Kind, &'static [&'static str]),
}

struct Case {
    graph: &'static GraphDef,
    rows: &'static [&'static str],
    op: Op,
    expect: Expect,
    source: &'static str,
}

const fn ok(steps: &'static [&'static str], after: &'static [&'static str]) -> Expect {
    Expect::Steps(steps, after)
}

const fn err(kind: Kind, words: &'static [&'static str]) -> Expect {
    Expect::Error(kind, words)
}

const fn case(
    graph: &'static GraphDef,
    rows: &'static [&'static str],
    op: Op,
    expect: Expect,
    source: &'static str,
) -> Case {
    Case {
        graph,
        rows,
        op,
        expect,
        source,
    }
}

use Kind::*;
use Op::{Down, Stamp, Up};

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // ---- G1 LIN ----
        case(&LIN, &["C"], Up("E"), ok(&["D", "E"], &["E"]), "TVT::RevisionPathTest::test_upgrade_path (#1)"),
        case(&LIN, &[], Up("C"), ok(&["A", "B", "C"], &["C"]), "TVT::RevisionPathTest::test_upgrade_path (#2)"),
        case(&LIN, &["A"], Up("+2"), ok(&["B", "C"], &["C"]), "TVT::RevisionPathTest::test_relative_upgrade_path (#3)"),
        case(&LIN, &["A"], Up("+1"), ok(&["B"], &["B"]), "TVT::RevisionPathTest::test_relative_upgrade_path (#4)"),
        case(&LIN, &["B"], Up("+3"), ok(&["C", "D", "E"], &["E"]), "TVT::RevisionPathTest::test_relative_upgrade_path (#5)"),
        case(&LIN, &["A"], Up("B+2"), ok(&["B", "C", "D"], &["D"]), "TVT::RevisionPathTest::test_relative_upgrade_path (#6)"),
        case(&LIN, &["A"], Up("D-2"), ok(&["B"], &["B"]), "TVT::RevisionPathTest::test_relative_upgrade_path (#7)"),
        case(&LIN, &["B"], Up("-2"), err(WrongDirection, &["`-2`", "upgrade"]), "TVT::RevisionPathTest::test_invalid_relative_upgrade_path (#8; Alembic: Relative revision -2 didn't produce 2 migrations)"),
        case(&LIN, &["B"], Up("+5"), err(OutOfRange, &["`+5`", "past the head", "only 3 step"]), "TVT::RevisionPathTest::test_invalid_relative_upgrade_path (#9)"),
        case(&LIN, &["E"], Up("+1"), err(OutOfRange, &["`+1`", "only 0 step"]), "verified: _parse_upgrade_target (#10)"),
        case(&LIN, &["E"], Down("C"), ok(&["E", "D"], &["C"]), "TVT::RevisionPathTest::test_downgrade_path (#11)"),
        case(&LIN, &["C"], Down("base"), ok(&["C", "B", "A"], &[]), "TVT::RevisionPathTest::test_downgrade_path (#12)"),
        case(&LIN, &["C"], Down("-1"), ok(&["C"], &["B"]), "TVT::RevisionPathTest::test_relative_downgrade_path (#13)"),
        case(&LIN, &["E"], Down("-3"), ok(&["E", "D", "C"], &["B"]), "TVT::RevisionPathTest::test_relative_downgrade_path (#14)"),
        case(&LIN, &["D"], Down("A+2"), ok(&["D"], &["C"]), "TVT::RevisionPathTest::test_relative_downgrade_path (#15)"),
        case(&LIN, &["D"], Down("C-2"), ok(&["D", "C", "B"], &["A"]), "TVT::RevisionPathTest::test_relative_downgrade_path (#16)"),
        case(&LIN, &["B"], Down("-2"), ok(&["B", "A"], &[]), "verified: _walk returns \"base\" (#17)"),
        case(&LIN, &["B"], Down("-3"), err(OutOfRange, &["`-3`", "past base", "only 2 step"]), "verified: _parse_downgrade_target (#18); cf. TVT::RevisionPathTest::test_invalid_relative_downgrade_path"),
        case(&LIN, &["B"], Down("+2"), err(WrongDirection, &["`+2`", "downgrade"]), "TVT::RevisionPathTest::test_invalid_relative_downgrade_path (#19)"),
        case(&LIN, &["B"], Down("b7ea"), err(WrongDirection, &["`b7ea`", "not a valid downgrade target", "`B`"]), "TVT::RevisionPathTest::test_invalid_move_higher_to_lower (#20)"),
        case(&LIN, &[], Down("548"), err(Unknown, &["`548`", "at least 4 characters"]), "deviation: prefixes need 4 characters; Alembic resolves `548` to B, then `Destination 548 is not a valid downgrade target` (TVT::RevisionPathTest::test_invalid_move_rev_to_none, #21)"),
        case(&LIN, &[], Up("b7ea"), ok(&["A", "B", "C"], &["C"]), "verified: _revision_for_ident (#22); cf. TR::LabeledBranchTest::test_partial_id_resolve"),
        case(&LIN, &[], Up("b"), err(Unknown, &["`b`", "at least 4 characters"]), "deviation: prefixes need 4 characters; Alembic resolves the 1-character prefix `b` to C (#23)"),
        case(&LIN, &[], Up("zz"), err(Unknown, &["`zz`", "at least 4 characters"]), "TR::LabeledBranchTest::test_no_revision_exists (#24)"),
        case(&LIN, &[], Up("zzzzzz"), err(Unknown, &["`zzzzzz`"]), "TR::LabeledBranchTest::test_no_revision_exists (#25)"),
        case(&LIN, &[], Up("head-1"), ok(&["A", "B", "C", "D"], &["D"]), "verified: _parse_upgrade_target (#26)"),
        case(&LIN, &["E"], Down("head-1"), ok(&["E"], &["D"]), "verified: _parse_downgrade_target (#27)"),
        case(&LIN, &["A"], Up("head+1"), err(OutOfRange, &["`head+1`", "past the head"]), "deviation: Alembic raises a raw AssertionError walking past the head (#28)"),
        case(&LIN, &["E"], Up("C"), ok(&[], &["E"]), "verified: _collect_upgrade_revisions, implicit_base (#29)"),
        case(&LIN, &["A"], Down("A"), ok(&[], &["A"]), "TVT::RevisionPathTest::test_downgrade_to_existing (#30)"),
        case(&LIN, &[], Down("base"), ok(&[], &[]), "TVT::RevisionPathTest::test_downgrade_base_no_version (#31)"),
        case(&LIN, &["E"], Down("base+9"), err(OutOfRange, &["`base+9`", "only 5 step"]), "verified: _parse_downgrade_target, Walked too far (#32)"),
        case(&LIN, &["D"], Stamp("base"), ok(&[], &[]), "TVT::RevisionPathTest::test_stamp_to_base (#33)"),
        case(&LIN, &["C"], Up("base"), err(WrongDirection, &["`base`", "not a valid upgrade target", "`C`"]), "deviation: `upgrade base` is an error (docs/targets.md); Alembic does nothing (verified: _collect_upgrade_revisions, get_revisions('base') is empty)"),
        case(&LIN, &["A"], Up("+1junk"), err(Syntax, &["`+1junk`"]), "deviation: trailing garbage is a syntax error; Alembic reads `+1junk` as `+1` (§1b, verified)"),
        case(&LIN, &["A"], Up("+0"), err(Syntax, &["`+0`", "at least one step"]), "deviation: `+0` is a syntax error; Alembic: Relative revision 0 didn't produce 0 migrations (§1b)"),
        case(&LIN, &["E"], Down("-0"), err(Syntax, &["`-0`", "at least one step"]), "deviation: `-0` is a syntax error; Alembic: Relative revision -0 didn't produce 0 migrations (§1b)"),

        // ---- G2 BR ----
        case(&BR, &["b"], Up("d1"), ok(&["c1", "d1"], &["d1"]), "TVT::BranchedPathTest::test_upgrade_single_branch (#34)"),
        case(&BR, &["a"], Up("heads"), ok(&["b", "c2", "d2", "c1", "d1"], &["d1", "d2"]), "TVT::BranchedPathTest::test_upgrade_multiple_branch (#35)"),
        case(&BR, &[], Up("head"), err(MultipleHeads, &["`head`", "`d1`, `d2`"]), "verified: MultipleHeads (#36); TR::APITest::test_get_revisions_head_multiple"),
        case(&BR, &["d1", "d2"], Down("a"), ok(&["d1", "c1", "d2", "c2", "b"], &["a"]), "TVT::BranchedPathTest::test_downgrade_multiple_branch (#37)"),
        case(&BR, &["d1", "d2"], Down("base"), ok(&["d1", "c1", "d2", "c2", "b", "a"], &[]), "verified: _collect_downgrade_revisions (#38)"),
        case(&BR, &["b"], Up("c2branch@head-1"), ok(&["c2"], &["c2"]), "TVT::BranchedPathTest::test_relative_upgrade (#39)"),
        case(&BR, &["b"], Up("c1branch@head"), ok(&["c1", "d1"], &["d1"]), "verified: label@head (#40)"),
        case(&BR, &["d1"], Up("c2"), ok(&["c2"], &["c2", "d1"]), "verified: HeadMaintainer create branch (#41)"),
        case(&BR, &["d1"], Up("c2branch"), ok(&["c2"], &["c2", "d1"]), "verified: bare label = declaring revision (#42)"),
        case(&BR, &["d2", "d1"], Down("base+2"), ok(&["d1", "c1", "d2", "c2"], &["b"]), "TVT::BranchedPathTest::test_relative_downgrade_baseplus2 (#43)"),
        case(&BR, &["d2", "d1"], Down("c2branch@base+2"), ok(&["d2", "c2"], &["d1"]), "TVT::BranchedPathTest::test_relative_downgrade_branchplus2 (#44)"),
        case(&BR, &["d2", "d1"], Down("c2"), ok(&["d2"], &["c2", "d1"]), "TVT::BranchedPathTest::test_relative_downgrade_branchplus3 (#45)"),
        case(&BR, &["d2", "d1"], Down("-1"), err(AmbiguousCurrent, &["`-1`", "`d1`, `d2`"]), "deviation: downgrade -1 with several heads is an error; Alembic warns and takes the first row (TVT::BranchedPathTest::test_downgrade_once_order_right, #46)"),
        case(&BR, &["c2", "d1"], Down("-1"), err(AmbiguousCurrent, &["`-1`", "`d1`, `c2`"]), "deviation: downgrade -1 with several heads is an error; Alembic warns (TVT::BranchedPathTest::test_downgrade_once_order_right_unbalanced, #48)"),
        case(&BR, &["d1", "d2"], Down("c1branch@-1"), ok(&["d1"], &["c1", "d2"]), "TVT::BranchedPathTest::test_downgrade_once_order_left_unbalanced_labelled (#49)"),
        case(&BR, &["c1", "d2"], Down("d2-1"), ok(&["d2"], &["c1", "c2"]), "TVT::BranchedPathTest::test_downgrade_relative_order_left (#50)"),
        case(&BR, &["c1", "d2"], Down("c1branch@b"), ok(&["c1"], &["d2"]), "TVT::BranchedPathTest::test_downgrade_single_branch_c1branch (#51)"),
        case(&BR, &["c1", "d2"], Down("c2branch@b"), ok(&["d2", "c2"], &["c1"]), "TVT::BranchedPathTest::test_downgrade_single_branch_c1branch_from_d1_head (#52)"),
        case(&BR, &["d1", "d2"], Down("d1@b"), ok(&["d1", "c1"], &["d2"]), "TVT::BranchedPathTest::test_downgrade_single_branch_d1 (#53)"),
        case(&BR, &["d1", "d2"], Down("c1branch@head-1"), ok(&["d1"], &["c1", "d2"]), "TVT::BranchedPathTest::test_downgrade_relative_to_branch_head (#54)"),
        case(&BR, &["c1"], Up("c2branch@+1"), ok(&["c2"], &["c1", "c2"]), "TVT::BranchedPathTest::test_upgrade_other_branch_from_mergepoint (#55)"),
        case(&BR, &["c1", "c2"], Up("c2branch@+1"), ok(&["d2"], &["c1", "d2"]), "TVT::BranchedPathTest::test_upgrade_one_branch_of_heads (#56)"),
        case(&BR, &["c1", "c2"], Up("+1"), err(AmbiguousCurrent, &["`+1`", "`c1`, `c2`"]), "TVT::BranchedPathTest::test_ambiguous_upgrade (#57)"),
        case(&BR, &["b"], Up("+1"), err(AmbiguousWalk, &["`+1`", "revision `b`", "several children", "`c1`, `c2`"]), "verified: _walk, Ambiguous walk (#58)"),
        case(&BR, &[], Up("base+1"), ok(&["a"], &["a"]), "TVT::BranchedPathTest::test_upgrade_from_base (#59)"),
        case(&BR, &[], Up("+1"), ok(&["a"], &["a"]), "TVT::BranchedPathTest::test_upgrade_from_base_implicit (#60)"),
        case(&BR, &["a"], Down("-1"), ok(&["a"], &[]), "TVT::BranchedPathTest::test_downgrade_minus1_to_base (#61)"),
        case(&BR, &[], Down("-1"), err(NothingCurrent, &["`-1`", "no current revision"]), "TVT::BranchedPathTest::test_downgrade_minus1_from_base (#62)"),
        case(&BR, &["d1", "c2"], Down("c2"), ok(&[], &["d1", "c2"]), "TVT::BranchedPathTest::test_downgrade_no_effect_branched (#63)"),
        case(&BR, &["d1", "c2"], Down("d1"), ok(&[], &["d1", "c2"]), "TVT::BranchedPathTest::test_downgrade_no_effect_branched (#63)"),
        case(&BR, &["d1"], Down("c2"), err(WrongDirection, &["`c2`", "not a valid downgrade target", "`d1`"]), "verified: RangeNotAncestorError, Nothing to drop (#64)"),
        case(&BR, &["d1", "d2"], Down("head-1"), err(MultipleHeads, &["`head-1`", "`d1`, `d2`"]), "verified: MultipleHeads (#65)"),
        case(&BR, &["d1", "d2"], Down("c1branch@base"), ok(&["d1", "c1", "d2", "c2", "b", "a"], &[]), "verified: label ignored with a single root (#66)"),
        case(&BR, &["d1", "d2"], Down("nolabel@base"), err(NoSuchBranch, &["`nolabel`"]), "deviation: unknown labels before @ are errors; Alembic never validates the label with a single root and downgrades everything (§1c, #66)"),
        case(&BR, &["d1"], Down("c2branch@-1"), err(NothingCurrent, &["`c2branch@-1`", "no current revision"]), "deviation: no revision of c2branch is applied; Alembic raises a raw AssertionError (verified: _parse_downgrade_target, §1g.8)"),
        case(&BR, &["d2"], Up("c1branch@base"), err(WrongDirection, &["`c1branch@base`", "not a valid upgrade target"]), "deviation: upgrading to `label@base` is an error; Alembic does nothing (verified: get_revisions('c1branch@base') is empty)"),
        case(&BR, &[], Up("c1branch@c2"), err(NotInBranch, &["`c2`", "`c1branch`"]), "verified: _revision_for_ident (#67); TR::LabeledBranchTest::test_rev_not_in_branch"),
        case(&BR, &["d1", "c2"], Stamp("b"), ok(&[], &["b"]), "TVT::BranchedPathTest::test_stamp_down_across_multiple_branch_to_branchpoint (#68)"),
        case(&BR, &["d1", "c2"], Stamp("c1branch@base"), ok(&[], &["c2"]), "TVT::BranchedPathTest::test_stamp_to_labeled_base_multiple_heads (#69)"),
        case(&BR, &["d1", "c2"], Stamp("c2branch@head"), ok(&[], &["d1", "d2"]), "TVT::BranchedPathTest::test_stamp_to_labeled_head_multiple_heads (#70)"),

        // ---- G2d BRDEP ----
        case(&BRDEP, &["d1", "d2"], Down("c2branch@b"), ok(&["d2", "c2"], &["d1"]), "TVT::BranchedPathTestCrossDependencies::test_downgrade_independent_branch (#71)"),
        case(&BRDEP, &["d1", "d2"], Down("c1branch@b"), ok(&["d1", "d2", "c1"], &["c2"]), "TVT::BranchedPathTestCrossDependencies::test_downgrade_branch_dependency (#72; exact order from a fresh load, verified)"),
        case(&BRDEP, &["c1", "c2"], Up("d2"), ok(&["d2"], &["d2"]), "verified: HeadMaintainer merge through a dependency (#73)"),
        case(&BRDEP, &["d2"], Down("-1"), ok(&["d2"], &["c1", "c2"]), "verified: HeadMaintainer unmerge gives the dependency its row back (#74)"),
        case(&BRDEP, &["d2"], Down("c1"), err(WrongDirection, &["`c1`", "not a valid downgrade target", "`d2`"]), "verified: roots are versioned children only (#75)"),
        case(&BRDEP, &["d2"], Down("c1branch@-1"), ok(&["d2", "c1"], &["c2"]), "verified: _get_all_current, c1 is the effective head of c1branch (#1026)"),
        case(&BRDEP, &["d2"], Down("b"), ok(&["d2", "c2", "c1"], &["b"]), "verified: _collect_downgrade_revisions, `downgrade b` from [d2] removes d2, c2, c1 (§1c)"),

        // ---- G3 MRG ----
        case(&MRG, &["b"], Up("f"), Expect::Trace(&[
            ("c2", &["c2"]), ("d2", &["d2"]), ("c1", &["c1", "d2"]), ("d1", &["d1", "d2"]), ("e", &["e"]), ("f", &["f"]),
        ]), "TVT::MergedPathTest::test_upgrade_across_merge_point (#76, rows verified)"),
        case(&MRG, &["f"], Down("b"), Expect::Trace(&[
            ("f", &["e"]), ("e", &["d1", "d2"]), ("d1", &["c1", "d2"]), ("c1", &["d2"]), ("d2", &["c2"]), ("c2", &["b"]),
        ]), "TVT::MergedPathTest::test_downgrade_across_merge_point (#77, rows verified)"),
        case(&MRG, &["f"], Down("base"), ok(&["f", "e", "d1", "c1", "d2", "c2", "b", "a"], &[]), "verified: _topological_sort (#78)"),
        case(&MRG, &[], Up("heads"), ok(&["a", "b", "c2", "d2", "c1", "d1", "e", "f"], &["f"]), "verified: _topological_sort (#79)"),
        case(&MRG, &[], Up("head"), ok(&["a", "b", "c2", "d2", "c1", "d1", "e", "f"], &["f"]), "verified: _topological_sort (#79)"),
        case(&MRG, &["f"], Down("-1"), ok(&["f"], &["e"]), "verified: _walk (#80)"),
        case(&MRG, &["e"], Down("-1"), err(AmbiguousWalk, &["`-1`", "revision `e`", "several parents", "`d1`, `d2`"]), "verified: _walk down from a merge, Ambiguous walk (#81)"),
        case(&MRG, &["f"], Down("d1"), ok(&["f", "e"], &["d1", "d2"]), "verified: HeadMaintainer unmerge (#82)"),
        case(&MRG, &["d1", "c2"], Up("e"), ok(&["d2", "e"], &["e"]), "verified: HeadMaintainer merge (#83)"),
        case(&MRG, &["d2"], Up("+1"), ok(&["c1", "d1", "e"], &["e"]), "verified: +1 walks one edge, then applies the closure (#84)"),
        case(&MRG, &["d1", "d2"], Up("+1"), err(AmbiguousCurrent, &["`+1`", "`d1`, `d2`"]), "verified: Ambiguous upgrade from multiple current revisions (#85)"),
        case(&MRG, &["f"], Down("c2branch@-1"), ok(&["f"], &["e"]), "verified: label@-N counts from the row sharing the label's lineage"),
        case(&MRG, &["e"], Stamp("c2"), ok(&[], &["c2"]), "TVT::MergedPathTest::test_stamp_down_across_merge_point_branch (#86)"),
        case(&MRG, &["d1", "c2"], Stamp("e"), ok(&[], &["e"]), "TVT::MergedPathTest::test_stamp_up_across_merge_from_multiple_branch (#87)"),
        case(&MRG, &["d1", "c2"], Stamp("c2branch@head"), ok(&[], &["f"]), "TVT::MergedPathTest::test_stamp_labeled_head_across_merge_from_multiple_branch (#88)"),

        // ---- G4 ROOTS ----
        case(&ROOTS, &[], Up("heads"), ok(&["d", "e", "someothername", "f", "a", "b", "somelongername", "c"], &["c", "f"]), "verified: _topological_sort across roots (#89)"),
        case(&ROOTS, &[], Up("ebranch@head"), ok(&["d", "e", "someothername", "f"], &["f"]), "TR::LabeledBranchTest::test_iterate_named_head_to_base, reversed (#90)"),
        case(&ROOTS, &["f"], Up("abranch@head"), ok(&["a", "b", "somelongername", "c"], &["c", "f"]), "verified: label@head inserts a row (#91)"),
        case(&ROOTS, &[], Up("head"), err(MultipleHeads, &["`head`", "`c`, `f`"]), "verified: MultipleHeads (#92)"),
        case(&ROOTS, &[], Up("some"), err(Ambiguous, &["`some`", "`somelongername`, `someothername`"]), "verified: Multiple revisions start with 'some' (#93)"),
        case(&ROOTS, &[], Up("ebranch@some"), ok(&["d", "e", "someothername"], &["someothername"]), "TR::LabeledBranchTest::test_partial_id_resolve (#94)"),
        case(&ROOTS, &[], Up("ebranch@sos"), err(Unknown, &["`sos`", "at least 4 characters"]), "TR::LabeledBranchTest::test_partial_id_resolve_too_short (#95)"),
        case(&ROOTS, &[], Up("ebranch@b"), err(NotInBranch, &["`b`", "`ebranch`"]), "TR::LabeledBranchTest::test_rev_not_in_branch (#96)"),
        case(&ROOTS, &[], Up("x@d"), err(NoSuchBranch, &["`x`", "`x@d`"]), "TR::LabeledBranchTest::test_no_such_branch (#97)"),
        case(&ROOTS, &[], Up("e@d"), ok(&["d"], &["d"]), "TR::LabeledBranchTest::test_not_actually_a_branch (#98)"),
        case(&ROOTS, &[], Up("someoth@d"), ok(&["d"], &["d"]), "TR::LabeledBranchTest::test_not_actually_a_branch_partial_resolution (#98)"),
        case(&ROOTS, &[], Up("ebranch@+2"), ok(&["d", "e"], &["e"]), "TR::LabeledBranchTest::test_branch_w_up_relative (#99)"),
        case(&ROOTS, &[], Up("+1"), err(AmbiguousWalk, &["`+1`", "base has several children", "`a`, `d`"]), "verified: _walk from two bases, Ambiguous walk (#100)"),
        case(&ROOTS, &["f"], Up("abranch@+1"), ok(&["a"], &["a", "f"]), "verified: label@+N from another root (#101)"),
        case(&ROOTS, &["f"], Down("abranch@-1"), err(NothingCurrent, &["`abranch@-1`"]), "deviation: abranch is not applied; Alembic raises a raw AssertionError (verified: _parse_downgrade_target)"),
        case(&ROOTS, &["c", "f"], Down("ebranch@base"), ok(&["f", "someothername", "e", "d"], &["c"]), "TR::LabeledBranchTest::test_iterate_head_to_named_base (#102)"),
        case(&ROOTS, &["c", "f"], Down("ebranch@-2"), ok(&["f", "someothername"], &["c", "e"]), "verified: label@-N (#103); cf. TR::LabeledBranchTest::test_branch_w_down_relative"),
        case(&ROOTS, &["c", "f"], Down("-4"), err(AmbiguousCurrent, &["`-4`", "`c`, `f`"]), "deviation: downgrade -N with several heads is an error; Alembic warns and downgrades c's root only (#104)"),
        case(&ROOTS, &["c", "f"], Down("c-4"), ok(&["c", "somelongername", "b", "a", "f", "someothername", "e", "d"], &[]), "verified: sym-N does not restrict to the branch (#104)"),
        case(&ROOTS, &["c", "f"], Down("abranch@d"), ok(&["f", "someothername", "e"], &["c", "d"]), "verified: label ignored, d has one child (#105)"),
        case(&ROOTS, &[], Up("ebr"), err(Unknown, &["`ebr`", "at least 4 characters"]), "deviation: prefixes need 4 characters; Alembic resolves `ebr` through the label key `ebranch` (#106)"),
        case(&ROOTS, &[], Up("ebran"), ok(&["d", "e"], &["e"]), "verified: labels take part in prefix matching (§1a, #106 with 5 characters)"),

        // ---- G5 XDEP ----
        case(&XDEP, &[], Up("heads"), ok(&["base3", "a3", "b3", "base2", "a2", "b2", "c2", "d2", "base1", "a1b", "b1b", "a1a", "b1a"], &["b1a", "b1b", "b3", "d2"]), "TR::MultipleBaseCrossDependencyTestOne::test_heads_to_base, reversed (#107)"),
        case(&XDEP, &[], Up("b_2@head"), ok(&["base3", "a3", "base2", "a2", "b2", "c2", "d2"], &["d2"]), "TR::MultipleBaseCrossDependencyTestOne::test_we_need_head2_upgrade (#108)"),
        case(&XDEP, &[], Up("b_3@head"), ok(&["base3", "a3", "b3"], &["b3"]), "TR::MultipleBaseCrossDependencyTestOne::test_we_need_head3_upgrade (#109)"),
        case(&XDEP, &["b1a", "b1b", "d2", "b3"], Down("b_2@base"), ok(&["d2", "c2", "b2", "a2", "base2"], &["b1a", "b1b", "b3"]), "TR::MultipleBaseCrossDependencyTestOne::test_we_need_base2_downgrade (#110)"),
        case(&XDEP, &["b1a", "b1b", "d2", "b3"], Down("b_3@base"), Expect::Trace(&[
            ("b1b", &["a1b", "b1a", "b3", "d2"]), ("d2", &["a1b", "b1a", "b3", "c2"]), ("c2", &["a1b", "b1a", "b2", "b3"]),
            ("b3", &["a1b", "a3", "b1a", "b2"]), ("a3", &["a1b", "b1a", "b2", "base3"]), ("base3", &["a1b", "b1a", "b2"]),
        ]), "TR::MultipleBaseCrossDependencyTestOne::test_we_need_base3_downgrade (#111, rows verified)"),
        case(&XDEP, &["b2"], Up("c2"), ok(&["base3", "a3", "c2"], &["c2"]), "verified: c2 merges the b2 and a3 rows (#112)"),
        case(&XDEP, &[], Up("b_1@head"), err(MultipleHeads, &["`b_1@head`", "`b1a`, `b1b`"]), "verified: MultipleHeads for a label on a branch point (#113)"),
        case(&XDEP, &["d2"], Down("b2"), ok(&["d2", "c2"], &["a3", "b2"]), "verified: a3 gets a row when no longer implied (#114)"),

        // ---- G6 3WAY ----
        case(&WAY3, &["d3", "d2", "b1"], Up("d1"), ok(&["c1", "d1"], &["d1", "d2", "d3"]), "TVT::BranchFrom3WayMergepointTest::test_mergepoint_to_only_one_side_upgrade (#115)"),
        case(&WAY3, &["d3", "d2", "d1"], Down("b1"), ok(&["d1", "c1"], &["b1", "d2", "d3"]), "TVT::BranchFrom3WayMergepointTest::test_mergepoint_to_only_one_side_downgrade (#116)"),
        case(&WAY3, &["d3", "b2", "b1"], Up("d1"), Expect::Trace(&[
            ("c2", &["b1", "c2", "d3"]), ("c1", &["c1", "c2", "d3"]), ("d1", &["d1", "d3"]),
        ]), "TVT::BranchFrom3WayMergepointTest::test_mergepoint_to_two_sides_upgrade (#117)"),
        case(&WAY3, &["d3", "d1"], Up("d2"), ok(&["d2"], &["d1", "d2", "d3"]), "TVT::BranchFrom3WayMergepointTest::test_mergepoint_to_two_sides_upgrade (#118)"),
        case(&WAY3, &[], Up("heads"), ok(&["a3", "b3", "c3", "a2", "b2", "c2", "d3", "d2", "a1", "b1", "c1", "d1"], &["d1", "d2", "d3"]), "verified: _topological_sort, first parent keeps the slot (#119)"),
        case(&WAY3, &["d1", "d2", "d3"], Down("base"), ok(&["d1", "c1", "b1", "a1", "d2", "d3", "c2", "b2", "a2", "c3", "b3", "a3"], &[]), "verified: _topological_sort (#120)"),
        case(&WAY3, &["d1"], Down("c2"), ok(&["d1"], &["c1", "c2", "c3"]), "verified: HeadMaintainer three-way unmerge (#121)"),
        case(&WAY3, &["d1"], Down("-1"), err(AmbiguousWalk, &["`-1`", "revision `d1`", "several parents"]), "verified: _walk down from a merge (#122)"),
        case(&WAY3, &["c1", "c2", "c3"], Up("d1"), ok(&["d1"], &["d1"]), "verified: HeadMaintainer three-way merge (#123)"),

        // ---- DEPROOT ----
        case(&DEPROOT, &[], Up("heads"), Expect::Trace(&[("x1", &["x1"]), ("y1", &["y1"])]), "verified: effective heads, y1 merges the x1 row (#124); docs/build/branches.rst"),
        case(&DEPROOT, &[], Up("head"), err(MultipleHeads, &["`head`", "`x1`, `y1`"]), "verified: head uses versioned heads (#125)"),
        case(&DEPROOT, &[], Up("+1"), err(AmbiguousWalk, &["`+1`", "base", "`x1`, `y1`"]), "verified: bases include dependency-only roots (§1e)"),
        case(&DEPROOT, &["y1"], Down("base"), ok(&["y1", "x1"], &[]), "verified: dependencies come down after their dependents (§1e)"),
    ]
}

// ---------------------------------------------------------------------------
// Running and reporting.
// ---------------------------------------------------------------------------

/// What retort did, in the note's names.
enum Outcome {
    Plan {
        /// Each step with the rows after it (replayed from its `VersionChange`s).
        trace: Vec<(String, Vec<String>)>,
        after: Vec<String>,
    },
    Error {
        kind: Option<Kind>,
        message: String,
    },
}

fn names(ids: &[String], built: &Built) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().map(|id| translate(id, &built.to_name)).collect();
    out.sort();
    out
}

/// Applies one version-table change the way retort's runtime does (update,
/// then delete, then insert), checking each row operation touches exactly
/// one row as Alembic's `HeadMaintainer` does.
fn replay(rows: &mut BTreeSet<String>, change: &VersionChange, problems: &mut Vec<String>) {
    if let Some((from, to)) = &change.update {
        if !rows.remove(from) {
            problems.push(format!("UPDATE from `{from}`, which is not a row"));
        }
        if !rows.insert(to.clone()) {
            problems.push(format!("UPDATE to `{to}`, which is already a row"));
        }
    }
    for d in &change.delete {
        if !rows.remove(d) {
            problems.push(format!("DELETE `{d}`, which is not a row"));
        }
    }
    for i in &change.insert {
        if !rows.insert(i.clone()) {
            problems.push(format!("INSERT `{i}`, which is already a row"));
        }
    }
}

fn run(case: &Case, built: &Built, problems: &mut Vec<String>) -> Outcome {
    let rows: Vec<String> = case
        .rows
        .iter()
        .map(|r| translate(r, &built.to_id))
        .collect();
    let current: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (target, direction) = match case.op {
        Up(t) => (t, Some(Direction::Upgrade)),
        Down(t) => (t, Some(Direction::Downgrade)),
        Stamp(t) => (t, None),
    };
    let target = translate(target, &built.to_id);
    let mut state: BTreeSet<String> = rows.iter().cloned().collect();
    let mut trace = Vec::new();
    let after = match direction {
        Some(direction) => {
            let plan = match direction {
                Direction::Upgrade => built.set.plan_upgrade(&current, &target),
                Direction::Downgrade => built.set.plan_downgrade(&current, &target),
            };
            let plan = match plan {
                Ok(plan) => plan,
                Err(e) => {
                    return Outcome::Error {
                        kind: kind_of(&e),
                        message: translate(&e.to_string(), &built.to_name),
                    };
                }
            };
            let before: Vec<String> = state.iter().cloned().collect();
            if plan.heads_before != before {
                problems.push(format!(
                    "heads_before {:?} is not the rows {before:?}",
                    plan.heads_before
                ));
            }
            if plan.direction != direction {
                problems.push(format!("plan direction {:?}", plan.direction));
            }
            for step in &plan.steps {
                if step.direction != direction {
                    problems.push(format!(
                        "step {} has direction {:?}",
                        step.revision.id(),
                        step.direction
                    ));
                }
                replay(&mut state, &step.version, problems);
                let rows: Vec<String> = state.iter().cloned().collect();
                trace.push((
                    translate(step.revision.id(), &built.to_name),
                    names(&rows, built),
                ));
            }
            plan.heads_after
        }
        None => {
            let plan = match built.set.plan_stamp(&current, &[target.as_str()], false) {
                Ok(plan) => plan,
                Err(e) => {
                    return Outcome::Error {
                        kind: kind_of(&e),
                        message: translate(&e.to_string(), &built.to_name),
                    };
                }
            };
            for change in &plan.changes {
                replay(&mut state, change, problems);
            }
            plan.heads_after
        }
    };
    let replayed: Vec<String> = state.into_iter().collect();
    if replayed != after {
        problems.push(format!(
            "replaying the version changes gives rows {:?}, but heads_after is {:?}",
            names(&replayed, built),
            names(&after, built)
        ));
    }
    Outcome::Plan {
        trace,
        after: names(&after, built),
    }
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    out.sort();
    out
}

fn describe_plan(steps: &[String], after: &[String]) -> String {
    format!(
        "steps [{}] -> rows {{{}}}",
        steps.join(", "),
        after.join(", ")
    )
}

/// Compares one case; `Err` holds the report.
fn check(number: usize, case: &Case) -> Result<(), String> {
    let built = case.graph.build();
    let mut problems = Vec::new();
    let outcome = run(case, &built, &mut problems);
    let op = match case.op {
        Up(t) => format!("upgrade `{t}`"),
        Down(t) => format!("downgrade `{t}`"),
        Stamp(t) => format!("stamp `{t}`"),
    };
    let mut report = format!(
        "case {number} [{}] rows [{}], {op}\n    source:   {}\n",
        case.graph.name,
        case.rows.join(", "),
        case.source
    );
    let expected = match &case.expect {
        Expect::Steps(steps, after) => describe_plan(&owned(steps), &sorted(after)),
        Expect::Trace(trace) => trace
            .iter()
            .map(|(step, rows)| format!("{step} -> {{{}}}", rows.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        Expect::Error(kind, words) => format!("error {kind:?} mentioning {words:?}"),
    };
    let actual = match &outcome {
        Outcome::Plan { trace, after } => match case.expect {
            Expect::Trace(_) => trace
                .iter()
                .map(|(step, rows)| format!("{step} -> {{{}}}", rows.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
            _ => describe_plan(
                &trace.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                after,
            ),
        },
        Outcome::Error { kind, message } => format!("error {kind:?}: {message}"),
    };
    let matches = match (&case.expect, &outcome) {
        (
            Expect::Steps(steps, after),
            Outcome::Plan {
                trace,
                after: actual,
            },
        ) => {
            trace.iter().map(|t| t.0.as_str()).eq(steps.iter().copied()) && *actual == sorted(after)
        }
        (Expect::Trace(expected), Outcome::Plan { trace, .. }) => {
            trace.len() == expected.len()
                && trace
                    .iter()
                    .zip(expected.iter())
                    .all(|((step, rows), (want, want_rows))| {
                        step == want && *rows == sorted(want_rows)
                    })
        }
        (
            Expect::Error(kind, words),
            Outcome::Error {
                kind: actual,
                message,
            },
        ) => {
            let missing: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !message.contains(w))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("message lacks {missing:?}"));
            }
            *actual == Some(*kind)
        }
        _ => false,
    };
    if matches && problems.is_empty() {
        return Ok(());
    }
    let _ = write!(report, "    expected: {expected}\n    actual:   {actual}\n");
    for problem in problems {
        let _ = writeln!(report, "    problem:  {problem}");
    }
    Err(report)
}

fn owned(steps: &[&str]) -> Vec<String> {
    steps.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn alembic_conformance() {
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| check(i + 1, case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} Alembic conformance cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_graph_is_covered() {
    let cases = cases();
    let mut per_graph: Vec<(&str, usize)> = Vec::new();
    for case in &cases {
        match per_graph
            .iter_mut()
            .find(|(name, _)| *name == case.graph.name)
        {
            Some((_, n)) => *n += 1,
            None => per_graph.push((case.graph.name, 1)),
        }
    }
    for graph in [&LIN, &BR, &BRDEP, &MRG, &ROOTS, &XDEP, &WAY3, &DEPROOT] {
        assert!(
            per_graph
                .iter()
                .any(|(name, n)| *name == graph.name && *n > 0),
            "no case for {}",
            graph.name
        );
    }
    assert!(cases.len() >= 40, "{} cases", cases.len());
    assert!(cases.iter().all(|c| !c.source.is_empty()));
}

/// The keyed ids really sort in the note's load order, and the heads come
/// out in the order the note lists them.
#[test]
fn ids_sort_in_load_order() {
    for graph in [&BR, &BRDEP, &MRG, &XDEP, &WAY3, &DEPROOT] {
        let built = graph.build();
        let by_id: Vec<&str> = built
            .set
            .revisions()
            .iter()
            .map(|r| built.to_name[r.id()].as_str())
            .collect();
        let listed: Vec<&str> = graph.revs.iter().map(|r| r.name).collect();
        assert_eq!(by_id, listed, "{}", graph.name);
    }
    let heads = |graph: &GraphDef| {
        let built = graph.build();
        let g = built
            .set
            .graph()
            .map_err(|e| format!("{e:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        g.heads()
            .iter()
            .map(|&i| built.to_name[g.id(i)].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(heads(&ROOTS), ["c", "f"]);
    assert_eq!(heads(&XDEP), ["b1a", "b1b", "d2", "b3"]);
    assert_eq!(heads(&WAY3), ["d1", "d2", "d3"]);
}
