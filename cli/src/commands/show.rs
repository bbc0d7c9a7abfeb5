//! `retort show`: one revision (or each revision a target names): its
//! header, file, checksum, lineage hash and SQL.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::commands::heads::Describe;
use crate::{Context, ShowArgs};

pub(crate) fn run(ctx: &Context<'_>, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let set = migrations.set();
    let describe = Describe::new(set)?;
    if set.is_empty() {
        bail!(
            "there are no revisions yet in {}; `retort revision -m MESSAGE` writes the first",
            super::history::source(ctx)
        );
    }
    let revisions = set
        .resolve(&args.revision)
        .with_context(|| format!("cannot show `{}`", args.revision))?;
    if revisions.is_empty() {
        bail!(
            "`{}` names no revision (it is below the first one); name a revision id, a prefix, a branch label or `head`",
            args.revision
        );
    }
    let ix: Vec<usize> = revisions
        .iter()
        .filter_map(|rev| set.index_of(rev.id()))
        .collect();
    if args.json {
        let list: Vec<Value> = ix
            .iter()
            .map(|&i| {
                let rev = describe.rev(i);
                let mut value = describe.json(i);
                if let Value::Object(map) = &mut value {
                    map.insert("checksum".into(), rev.checksum().to_hex().into());
                    map.insert(
                        "lineage".into(),
                        set.lineage(rev.id())
                            .map(|l| l.to_hex())
                            .unwrap_or_default()
                            .into(),
                    );
                    map.insert("upgrade".into(), rev.upgrade_sql().into());
                    map.insert(
                        "downgrade".into(),
                        rev.downgrade_sql().map_or(Value::Null, Value::from),
                    );
                }
                value
            })
            .collect();
        // One revision is an object, several (`heads`) an array.
        match <[Value; 1]>::try_from(list) {
            Ok([one]) => ctx.out.json(&one),
            Err(list) => ctx.out.json(&Value::Array(list)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (n, &i) in ix.iter().enumerate() {
        let rev = describe.rev(i);
        let mut text = describe.log_entry(i, true);
        text.push_str(&section("Upgrade", Some(rev.upgrade_sql())));
        text.push_str(&section("Downgrade", rev.downgrade_sql()));
        if n + 1 < ix.len() {
            text.push('\n');
        }
        ctx.out.line(text.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn section(title: &str, sql: Option<&str>) -> String {
    match sql {
        None => format!(
            "\n{title}: none (irreversible: the file has no `-- migrate:downgrade` section)\n"
        ),
        Some(sql) if sql.trim().is_empty() => format!("\n{title}: (empty)\n"),
        Some(sql) => {
            let body: String = sql
                .trim_matches(['\n', '\r'])
                .lines()
                .map(|line| {
                    if line.trim().is_empty() {
                        "\n".to_owned()
                    } else {
                        format!("    {line}\n")
                    }
                })
                .collect();
            format!("\n{title}:\n{body}")
        }
    }
}
