//! The documented `build.rs` recipe: with
//! `cargo:rerun-if-changed=migrations`, *adding* a revision file recompiles
//! the crate and the new revision is embedded. Builds a scratch crate (its
//! dependencies are cached in `rerun-probe` under cargo's temporary
//! directory for tests, inside whatever the target directory is).

use std::path::Path;
use std::process::Command;

const REVISION_A: &str =
    "-- a\n-- Revision ID: aaaa0001\n-- Revises:\n-- migrate:upgrade\nCREATE TABLE a (id INT);\n";
const REVISION_B: &str = "-- b\n-- Revision ID: bbbb0002\n-- Revises: aaaa0001\n-- migrate:upgrade\nCREATE TABLE b (id INT);\n";

fn run_probe(dir: &Path) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut last_error = String::new();
    for offline in [true, false] {
        let mut cmd = Command::new(&cargo);
        cmd.arg("run").arg("--quiet").current_dir(dir);
        if offline {
            cmd.arg("--offline");
        }
        cmd.env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("rerun-probe"),
        );
        let out = cmd.output().expect("run cargo");
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).trim().to_owned();
        }
        last_error = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    panic!("the probe crate failed to build:\n{last_error}");
}

#[test]
fn adding_a_revision_recompiles_with_the_build_rs_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join("migrations")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"rerun-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nretort = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            workspace.display().to_string()
        ),
    )
    .unwrap();
    // Pin the same dependency versions as the workspace (and allow --offline).
    std::fs::copy(workspace.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    std::fs::write(
        root.join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/main.rs"),
        "static M: retort::Migrations = retort::embed_migrations!(\"migrations\", allow_multiple_heads = true);\n\
         fn main() { println!(\"{} {}\", M.len(), M.heads().collect::<Vec<_>>().join(\",\")); }\n",
    )
    .unwrap();
    std::fs::write(root.join("migrations/aaaa0001_a.sql"), REVISION_A).unwrap();
    assert_eq!(run_probe(root), "1 aaaa0001");

    std::fs::write(root.join("migrations/bbbb0002_b.sql"), REVISION_B).unwrap();
    assert_eq!(
        run_probe(root),
        "2 bbbb0002",
        "an added file must be embedded"
    );

    // Editing a file recompiles too (include_str! tracks it).
    std::fs::write(
        root.join("migrations/bbbb0002_b.sql"),
        REVISION_B.replace("Revises: aaaa0001", "Revises:"),
    )
    .unwrap();
    assert_eq!(
        run_probe(root),
        "2 aaaa0001,bbbb0002",
        "an edited file must be re-read"
    );
}
