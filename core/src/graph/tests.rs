use super::*;

struct Spec {
    id: &'static str,
    parents: Vec<&'static str>,
    deps: Vec<&'static str>,
    labels: Vec<&'static str>,
}

fn spec(id: &'static str, parents: &[&'static str]) -> Spec {
    Spec {
        id,
        parents: parents.to_vec(),
        deps: Vec::new(),
        labels: Vec::new(),
    }
}

fn build(specs: &[Spec]) -> Result<Graph, Vec<GraphError>> {
    let files: Vec<String> = specs.iter().map(|s| format!("m/{}.sql", s.id)).collect();
    let nodes: Vec<Node<'_>> = specs
        .iter()
        .zip(&files)
        .map(|(s, file)| Node {
            id: s.id,
            parents: &s.parents,
            depends_on: &s.deps,
            branch_labels: &s.labels,
            file,
            lines: HeaderLines {
                id: 3,
                revises: 4,
                depends_on: 5,
                branch_labels: 6,
            },
        })
        .collect();
    Graph::build(&nodes)
}

fn ids(g: &Graph, ix: &[Ix]) -> Vec<String> {
    ix.iter().map(|&i| g.id(i).to_owned()).collect()
}

#[test]
fn heads_bases_and_topology_of_a_diamond() {
    let g = build(&[
        spec("a", &[]),
        spec("b", &["a"]),
        spec("c", &["a"]),
        spec("d", &["b", "c"]),
        spec("x", &[]),
    ])
    .unwrap();
    assert_eq!(ids(&g, g.heads()), ["d", "x"]);
    assert_eq!(ids(&g, g.bases()), ["a", "x"]);
    let topo = g.topological();
    let pos = |id: &str| topo.iter().position(|&i| g.id(i) == id).unwrap();
    assert!(pos("a") < pos("b") && pos("a") < pos("c"));
    assert!(pos("b") < pos("d") && pos("c") < pos("d"));
    let anc = g.ancestors(&[g.get("d").unwrap()]);
    assert_eq!(anc, [true, true, true, true, false]);
    let desc = g.descendants(&[g.get("b").unwrap()]);
    assert_eq!(desc, [false, true, false, true, false]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = build(&[
        spec("a", &[]),
        spec("a", &[]),
        spec("b", &["nope"]),
        spec("c", &["d"]),
        spec("d", &["c"]),
        Spec {
            id: "e",
            parents: vec!["a"],
            deps: vec!["ghost"],
            labels: vec!["lbl", "b"],
        },
        Spec {
            id: "f",
            parents: vec!["a"],
            deps: vec![],
            labels: vec!["lbl"],
        },
    ])
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expect = [
        "m/a.sql:3: duplicate revision id `a` (also declared in m/a.sql:3)",
        "m/e.sql:6: branch label `b` of revision `e` is also a revision id (m/b.sql); targets naming it would be ambiguous",
        "m/f.sql:6: branch label `lbl` is declared by revision `f` and by `e` (m/e.sql:6)",
        "m/b.sql:4: revision `b` revises `nope`, which is not a revision in this set",
        "m/e.sql:5: revision `e` depends on `ghost`, which is neither a revision nor a branch label in this set",
        "m/c.sql:4: revision cycle: `c` -> `d` -> `c`",
    ];
    assert_eq!(text, expect);
}

#[test]
fn unknown_parent_suggests_full_ids_for_a_prefix() {
    let errors = build(&[spec("abcdef012345", &[]), spec("b", &["abcd"])]).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "m/b.sql:4: revision `b` revises `abcd`, which is not a revision in this set (did you mean `abcdef012345`?)"
    );
}

#[test]
fn cycles_through_dependencies_and_self_contained_tails() {
    let errors = build(&[
        spec("a", &[]),
        Spec {
            id: "b",
            parents: vec!["a"],
            deps: vec!["c"],
            labels: vec![],
        },
        spec("c", &["b"]),
        spec("tail", &["c"]),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].to_string().contains("revision cycle: "),
        "{}",
        errors[0]
    );
}

#[test]
fn dependencies_resolve_labels_and_order_topologically() {
    let g = build(&[
        Spec {
            id: "n1",
            parents: vec![],
            deps: vec![],
            labels: vec!["networking"],
        },
        Spec {
            id: "z1",
            parents: vec![],
            deps: vec!["networking"],
            labels: vec![],
        },
    ])
    .unwrap();
    let z = g.get("z1").unwrap();
    assert_eq!(ids(&g, g.dependencies(z)), ["n1"]);
    assert_eq!(ids(&g, g.topological()), ["n1", "z1"]);
    assert_eq!(g.label("networking"), g.get("n1"));
}

#[test]
fn lineage_changes_with_any_ancestor() {
    let g = build(&[spec("a", &[]), spec("b", &["a"]), spec("c", &["a"])]).unwrap();
    let base = |i: Ix| crate::checksum::checksum(g.id(i).as_bytes());
    let before = g.lineages(base);
    let edited = g.lineages(|i| {
        if g.id(i) == "a" {
            crate::checksum::checksum(b"edited")
        } else {
            base(i)
        }
    });
    for i in 0..3 {
        assert_ne!(before[i], edited[i], "{}", g.id(i));
    }
    let edited_b = g.lineages(|i| {
        if g.id(i) == "b" {
            crate::checksum::checksum(b"edited")
        } else {
            base(i)
        }
    });
    assert_eq!(before[0], edited_b[0]);
    assert_ne!(before[1], edited_b[1]);
    assert_eq!(before[2], edited_b[2]);
}

#[test]
fn branch_names_spread_as_alembic_spreads_them() {
    let labelled = |id: &'static str, parents: &[&'static str], label: &'static str| Spec {
        labels: vec![label],
        ..spec(id, parents)
    };
    // Alembic's docs/build/branches.rst: `1975` branches into `ae10` and the
    // `shoppingcart` branch (`27c6`, then `d747`); `networking` is a base of
    // its own whose label is declared on `3cac`. Plus a label declared above
    // a plain stem (`m2` on `m1`, the base below it inherits) and a merge of
    // two labelled branches (`mm`).
    let g = build(&[
        spec("1975", &[]),
        spec("ae10", &["1975"]),
        labelled("27c6", &["1975"], "shoppingcart"),
        spec("d747", &["27c6"]),
        labelled("3cac", &[], "networking"),
        spec("109e", &["3cac"]),
        spec("m1", &[]),
        labelled("m2", &["m1"], "stem"),
        spec("mm", &["d747", "109e"]),
    ])
    .unwrap();
    let names = |id: &str| g.branch_names(g.get(id).unwrap());
    assert!(names("1975").is_empty(), "a branch point carries no label");
    assert!(names("ae10").is_empty());
    assert_eq!(names("27c6"), ["shoppingcart"]);
    assert_eq!(names("d747"), ["shoppingcart"], "inherited from below");
    assert_eq!(names("3cac"), ["networking"]);
    assert_eq!(names("109e"), ["networking"]);
    assert_eq!(
        names("m1"),
        ["stem"],
        "inherited from above, down to the base"
    );
    assert_eq!(names("mm"), ["networking", "shoppingcart"]);
}
