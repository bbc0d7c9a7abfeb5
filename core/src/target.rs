//! Alembic's target grammar, parsed and resolved against a [`Graph`].
//!
//! | target | meaning |
//! |---|---|
//! | `head` | the single head (error listing the heads when there are several; base when there is no revision) |
//! | `heads` | every head (none when there is no revision) |
//! | `base` | below every revision |
//! | `3f2a9c1b7d4e`, `3f2a` | a revision id, or a unique prefix of at least 4 characters |
//! | `accounts` | a branch label: the revision that declares it |
//! | `accounts@head`, `accounts@heads` | the head(s) of that branch |
//! | `accounts@3f2a` | a revision, which must be on that branch |
//! | `accounts@base` | below the branch (downgrades only that branch) |
//! | `+2`, `-1` | relative to the database's current head |
//! | `accounts@+1`, `accounts@-1` | relative to the current head of a branch (a revision id names the branch it is on) |
//! | `3f2a+2`, `3f2a-1`, `head-1`, `base+1`, `accounts@head-1` | relative to a revision |
//!
//! A relative target walks N parent edges (dependencies are not walked); a
//! walk that meets a branch point going up, or a merge going down, is
//! ambiguous unless a branch label says which way to go. Semantics follow
//! Alembic 1.19's `revision.py`; where Alembic crashes, warns or silently
//! guesses, retort returns an error instead (see `docs/targets.md`).

use std::fmt;

use crate::graph::{Graph, Ix, quoted_list};

/// The shortest partial revision id accepted.
pub const MIN_PREFIX: usize = 4;

/// The symbol part of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Symbol {
    /// `head`
    Head,
    /// `heads`
    Heads,
    /// `base`
    Base,
    /// A revision id, unique prefix or branch label.
    Ident(String),
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Head => f.write_str("head"),
            Self::Heads => f.write_str("heads"),
            Self::Base => f.write_str("base"),
            Self::Ident(ident) => f.write_str(ident),
        }
    }
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `[label@]symbol`
    Absolute {
        /// The part before `@`.
        label: Option<String>,
        /// The part after it.
        symbol: Symbol,
    },
    /// `[label@][symbol](+|-)N`
    Relative {
        /// The part before `@`.
        label: Option<String>,
        /// What to count from; `None` means the database's current head(s).
        symbol: Option<Symbol>,
        /// Signed number of steps.
        delta: i64,
    },
}

/// A target that could not be parsed or resolved, or a plan that cannot be
/// made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not in the target grammar.
    #[error("invalid target `{target}`: {reason}")]
    Syntax {
        /// The target as given.
        target: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Neither a revision, a unique prefix nor a branch label.
    #[error("no revision or branch label matches `{ident}`{}", if ident.len() < MIN_PREFIX { " (a partial revision id needs at least 4 characters)" } else { "" })]
    Unknown {
        /// What was looked up.
        ident: String,
    },
    /// A prefix matches several revisions.
    #[error(
        "`{ident}` matches several revisions: {}; type more characters",
        quoted_list(candidates)
    )]
    Ambiguous {
        /// The prefix.
        ident: String,
        /// Matching ids (and labels).
        candidates: Vec<String>,
    },
    /// The part before `@` names no branch label or revision.
    #[error("no branch label or revision `{label}` (in `{target}`)")]
    NoSuchBranch {
        /// The label.
        label: String,
        /// The whole target.
        target: String,
    },
    /// `label@rev` where rev is not on that branch.
    #[error("revision `{revision}` is not on branch `{label}`")]
    NotInBranch {
        /// The resolved revision.
        revision: String,
        /// The label.
        label: String,
    },
    /// `head` (or `label@head`) with several heads.
    #[error(
        "`{target}` is ambiguous: there are several heads ({}); name one of them{}, or merge them with `retort merge -m \"merge heads\"`",
        quoted_list(heads),
        if target.ends_with("heads") { "" } else { ", use `heads` for all of them" }
    )]
    MultipleHeads {
        /// The target as given.
        target: String,
        /// The heads it could mean.
        heads: Vec<String>,
    },
    /// Several targets where one is an ancestor of another.
    #[error(
        "requested revision `{revision}` overlaps with other requested revisions {}",
        quoted_list(others)
    )]
    Overlap {
        /// The revision.
        revision: String,
        /// The revisions it is an ancestor or descendant of.
        others: Vec<String>,
    },
    /// A relative walk reached a branch point (going up) or a merge (going down).
    #[error("`{target}` is ambiguous: {} has {} ({}); {}", if *.from == "base" { "base".to_owned() } else { format!("revision `{from}`") }, if *.upward { "several children" } else { "several parents" }, quoted_list(choices), walk_hint(target, *.upward, choices))]
    AmbiguousWalk {
        /// The target as given.
        target: String,
        /// Where the walk stood.
        from: String,
        /// True when walking towards the heads.
        upward: bool,
        /// The ways it could go.
        choices: Vec<String>,
    },
    /// A relative walk ran past a head or past base.
    #[error("`{target}` goes past {}: only {available} step(s) available", if *.upward { "the head" } else { "base" })]
    OutOfRange {
        /// The target as given.
        target: String,
        /// True when walking towards the heads.
        upward: bool,
        /// Steps that could be walked.
        available: u64,
    },
    /// `+N`/`-N` with several current heads.
    #[error(
        "`{target}` is ambiguous: the database has several current heads ({}); say which one to count from: {}",
        quoted_list(heads),
        either(&heads.iter().map(|h| format!("{h}@{}", relative_part(target))).collect::<Vec<_>>())
    )]
    AmbiguousCurrent {
        /// The target as given.
        target: String,
        /// The current heads.
        heads: Vec<String>,
    },
    /// A relative target with nothing to count from.
    #[error("`{target}`: the database has no current revision to count from")]
    NothingCurrent {
        /// The target as given.
        target: String,
    },
    /// A history range whose end lies below its start.
    #[error(
        "range `{range}` is reversed: `{end}` is below `{start}` (a range runs from the older revision to the newer); for the revisions between them, run `retort history -r {end}:{start}`"
    )]
    ReversedRange {
        /// The range as given.
        range: String,
        /// Its start, as given (`base` when empty).
        start: String,
        /// Its end, as given (`heads` when empty).
        end: String,
    },
    /// A history range whose start is neither below nor above its end.
    #[error(
        "range `{range}` selects nothing: `{start}` is not below `{end}` (they lie on different branches); name a start below the end, or `base`"
    )]
    UnrelatedRange {
        /// The range as given.
        range: String,
        /// Its start, as given.
        start: String,
        /// Its end, as given.
        end: String,
    },
    /// The target cannot be reached in this direction.
    #[error("`{target}` is not a valid {direction} target from the current head(s) {}", if heads.is_empty() { "(none)".to_owned() } else { quoted_list(heads) })]
    WrongDirection {
        /// The target as given.
        target: String,
        /// "upgrade" or "downgrade".
        direction: &'static str,
        /// The current heads.
        heads: Vec<String>,
    },
}

/// What to type instead of an ambiguous walk: going up, the same walk
/// restricted to one child's branch (`<child>@+N`, which works for any
/// revision id as a branch); going down through a merge, the parent to go
/// to, since no relative walk can say which parent.
fn walk_hint(target: &str, upward: bool, choices: &[String]) -> String {
    if upward {
        let named: Vec<String> = choices
            .iter()
            .map(|c| format!("{c}@{}", relative_part(target)))
            .collect();
        format!("say which branch: {}", either(&named))
    } else {
        format!(
            "a relative walk cannot go down through a merge: name the revision to go to instead ({})",
            either(choices)
        )
    }
}

/// `label@rest` without its label: the part a hint puts after another label.
fn relative_part(target: &str) -> &str {
    target.split_once('@').map_or(target, |(_, rest)| rest)
}

/// `` `a` or `b` ``, `` `a`, `b` or `c` ``.
fn either(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Parses a target string.
///
/// ```
/// use retort_core::target::{parse, Symbol, Target};
/// assert_eq!(parse("head").unwrap(), Target::Absolute { label: None, symbol: Symbol::Head });
/// assert_eq!(
///     parse("api@-2").unwrap(),
///     Target::Relative { label: Some("api".into()), symbol: None, delta: -2 }
/// );
/// assert!(parse("a@b@c").is_err());
/// ```
pub fn parse(target: &str) -> Result<Target, TargetError> {
    let syntax = |reason| TargetError::Syntax {
        target: target.to_owned(),
        reason,
    };
    if target.trim().is_empty() {
        return Err(syntax("it is empty"));
    }
    if target != target.trim() {
        return Err(syntax("it has leading or trailing whitespace"));
    }
    let (label, rest) = match target.split_once('@') {
        Some((label, rest)) => {
            if label.is_empty() {
                return Err(syntax("nothing before `@`"));
            }
            if !is_word(label) {
                return Err(syntax("a branch label has only letters, digits and `_`"));
            }
            (Some(label.to_owned()), rest)
        }
        None => (None, target),
    };
    if rest.contains('@') {
        return Err(syntax("at most one `@` is allowed"));
    }
    if rest.is_empty() {
        return Err(syntax("nothing after `@`"));
    }
    let symbol = |s: &str| -> Result<Symbol, TargetError> {
        Ok(match s {
            "head" => Symbol::Head,
            "heads" => Symbol::Heads,
            "base" => Symbol::Base,
            ident if is_word(ident) => Symbol::Ident(ident.to_owned()),
            _ => {
                return Err(syntax(
                    "expected `head`, `heads`, `base`, a revision id or branch label, optionally followed by +N or -N",
                ));
            }
        })
    };
    match rest.find(['+', '-']) {
        None => Ok(Target::Absolute {
            label,
            symbol: symbol(rest)?,
        }),
        Some(at) => {
            let (sym, number) = rest.split_at(at);
            let digits = &number[1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax("expected a number after `+` or `-`"));
            }
            let magnitude: i64 = digits
                .parse()
                .map_err(|_| syntax("the number of steps is too large"))?;
            if magnitude == 0 {
                return Err(syntax("a relative target needs at least one step"));
            }
            let delta = if number.starts_with('-') {
                -magnitude
            } else {
                magnitude
            };
            let symbol = if sym.is_empty() {
                None
            } else {
                Some(symbol(sym)?)
            };
            Ok(Target::Relative {
                label,
                symbol,
                delta,
            })
        }
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Resolution helpers over a graph; `target` is the whole target string,
/// for messages.
pub(crate) struct Resolver<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) target: &'g str,
}

impl<'g> Resolver<'g> {
    fn ids(&self, ix: &[Ix]) -> Vec<String> {
        ix.iter().map(|&i| self.graph.id(i).to_owned()).collect()
    }

    /// A revision id, unique prefix (ids and labels, at least 4 characters)
    /// or branch label, optionally restricted to the lineage of `branch`.
    pub(crate) fn ident(&self, ident: &str, branch: Option<(Ix, &str)>) -> Result<Ix, TargetError> {
        let g = self.graph;
        let found = match g.get(ident).or_else(|| g.label(ident)) {
            Some(i) => i,
            None => {
                if ident.len() < MIN_PREFIX {
                    return Err(TargetError::Unknown {
                        ident: ident.to_owned(),
                    });
                }
                let mut candidates: Vec<(String, Ix)> = g
                    .with_prefix(ident)
                    .into_iter()
                    .map(|i| (g.id(i).to_owned(), i))
                    .collect();
                let mut labels: Vec<(String, Ix)> = g
                    .labels()
                    .filter(|(label, _)| label.starts_with(ident))
                    .map(|(label, i)| (label.to_owned(), i))
                    .collect();
                labels.sort();
                candidates.extend(labels);
                if let Some((b, _)) = branch {
                    candidates.retain(|(_, i)| g.shares_lineage(*i, b));
                }
                let mut revisions: Vec<Ix> = candidates.iter().map(|c| c.1).collect();
                revisions.sort_unstable();
                revisions.dedup();
                match revisions.as_slice() {
                    [] => {
                        return Err(TargetError::Unknown {
                            ident: ident.to_owned(),
                        });
                    }
                    [one] => *one,
                    _ => {
                        return Err(TargetError::Ambiguous {
                            ident: ident.to_owned(),
                            candidates: candidates.into_iter().map(|c| c.0).collect(),
                        });
                    }
                }
            }
        };
        if let Some((b, label)) = branch
            && !g.shares_lineage(found, b)
        {
            return Err(TargetError::NotInBranch {
                revision: g.id(found).to_owned(),
                label: label.to_owned(),
            });
        }
        Ok(found)
    }

    /// The revision a branch label (or revision id) before `@` stands for.
    pub(crate) fn branch(&self, label: &str) -> Result<Ix, TargetError> {
        self.ident(label, None)
            .map_err(|_| TargetError::NoSuchBranch {
                label: label.to_owned(),
                target: self.target.to_owned(),
            })
    }

    /// The versioned heads, restricted to a branch's lineage.
    pub(crate) fn heads_of(&self, branch: Option<Ix>) -> Vec<Ix> {
        let g = self.graph;
        match branch {
            None => g.heads().to_vec(),
            Some(b) => g
                .heads()
                .iter()
                .copied()
                .filter(|&h| g.shares_lineage(h, b))
                .collect(),
        }
    }

    /// `head` or `label@head`: exactly one head, or none (base) when the
    /// set has no revision at all, where Alembic's `head` is empty too.
    pub(crate) fn single_head(&self, branch: Option<Ix>) -> Result<Option<Ix>, TargetError> {
        let heads = self.heads_of(branch);
        match heads.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(TargetError::MultipleHeads {
                target: self.target.to_owned(),
                heads: self.ids(&heads),
            }),
        }
    }

    /// A symbol that must name one revision (`None` for `base`, and for
    /// `head`/`heads` in a set without revisions).
    pub(crate) fn one(
        &self,
        label: Option<&str>,
        symbol: &Symbol,
    ) -> Result<Option<Ix>, TargetError> {
        let branch = match label {
            Some(label) => Some((self.branch(label)?, label)),
            None => None,
        };
        match symbol {
            Symbol::Base => Ok(None),
            Symbol::Head => self.single_head(branch.map(|b| b.0)),
            Symbol::Heads => {
                let heads = match branch {
                    Some((b, _)) => self.heads_of(Some(b)),
                    None => self.graph.real_heads().to_vec(),
                };
                match heads.as_slice() {
                    [] => Ok(None),
                    [one] => Ok(Some(*one)),
                    _ => Err(TargetError::MultipleHeads {
                        target: self.target.to_owned(),
                        heads: self.ids(&heads),
                    }),
                }
            }
            Symbol::Ident(ident) => self.ident(ident, branch).map(Some),
        }
    }

    /// Alembic's `_walk`: `steps` parent edges from `start` (`None` = below
    /// every base), choosing among children by `branch` lineage. Returns
    /// `Ok(None)` for base.
    pub(crate) fn walk(
        &self,
        start: Option<Ix>,
        steps: i64,
        branch: Option<Ix>,
    ) -> Result<Option<Ix>, TargetError> {
        let g = self.graph;
        let mut at = start;
        let mut walked = 0u64;
        let upward = steps > 0;
        for _ in 0..steps.unsigned_abs() {
            let choices: Vec<Ix> = if upward {
                let next: Vec<Ix> = match at {
                    None => g.bases().to_vec(),
                    Some(i) => g.children(i).to_vec(),
                };
                match branch {
                    Some(b) => next
                        .into_iter()
                        .filter(|&c| g.shares_lineage(c, b))
                        .collect(),
                    None => next,
                }
            } else {
                match at {
                    None => Vec::new(),
                    Some(i) => g.parents(i).to_vec(),
                }
            };
            match choices.as_slice() {
                [] if !upward && at.is_some() => {
                    // One step below a base is base itself.
                    at = None;
                    walked += 1;
                }
                [] => {
                    return Err(TargetError::OutOfRange {
                        target: self.target.to_owned(),
                        upward,
                        available: walked,
                    });
                }
                [one] => {
                    at = Some(*one);
                    walked += 1;
                }
                many => {
                    return Err(TargetError::AmbiguousWalk {
                        target: self.target.to_owned(),
                        from: at.map_or_else(|| "base".to_owned(), |i| g.id(i).to_owned()),
                        upward,
                        choices: self.ids(many),
                    });
                }
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let abs = |label: Option<&str>, symbol: Symbol| Target::Absolute {
            label: label.map(str::to_owned),
            symbol,
        };
        let rel = |label: Option<&str>, symbol: Option<Symbol>, delta| Target::Relative {
            label: label.map(str::to_owned),
            symbol,
            delta,
        };
        let id = |s: &str| Symbol::Ident(s.to_owned());
        let cases = [
            ("head", abs(None, Symbol::Head)),
            ("heads", abs(None, Symbol::Heads)),
            ("base", abs(None, Symbol::Base)),
            ("ae10", abs(None, id("ae10"))),
            ("api@head", abs(Some("api"), Symbol::Head)),
            ("api@ae10", abs(Some("api"), id("ae10"))),
            ("api@base", abs(Some("api"), Symbol::Base)),
            ("+2", rel(None, None, 2)),
            ("-1", rel(None, None, -1)),
            ("ae10+3", rel(None, Some(id("ae10")), 3)),
            ("head-1", rel(None, Some(Symbol::Head), -1)),
            ("base+2", rel(None, Some(Symbol::Base), 2)),
            ("api@+1", rel(Some("api"), None, 1)),
            ("api@head-2", rel(Some("api"), Some(Symbol::Head), -2)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap(), expected, "{text}");
        }
        for bad in [
            "",
            " head",
            "head ",
            "@head",
            "api@",
            "a@b@c",
            "+",
            "-x",
            "+0",
            "ab+1x",
            "a b",
            "a-b-1",
            "+99999999999999999999",
            "ab.c",
            "+1junk",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(matches!(e, TargetError::Syntax { .. }), "{bad}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid target `{bad}`: ")),
                "{e}"
            );
        }
    }
}
