//! Parsing the `CREATE` statements SQLite keeps in `sqlite_schema`: SQLite
//! reports columns, keys and foreign keys through pragmas, but check
//! constraints, generated expressions, constraint names, `AUTOINCREMENT`
//! and deferrable clauses only live in the statement text.
//!
//! Follows SQLite's grammar (<https://sqlite.org/lang_createtable.html>);
//! texts are kept in [`canonical`](crate::canonical) form.

use retort_core::split::Dialect;

use crate::lex::{self, Kind, Token};
use crate::model::{Check, Column, FkAction, ForeignKey, Generated, Identity, Key, Table};
use crate::normalise::{join, strip_outer_parens};

const D: Dialect = Dialect::Sqlite;

struct Cursor<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn peek_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.peek_word(word);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_words(&mut self, words: &[&str]) -> bool {
        let hit = words
            .iter()
            .enumerate()
            .all(|(i, w)| self.tokens.get(self.pos + i).is_some_and(|t| t.is_word(w)));
        if hit {
            self.pos += words.len();
        }
        hit
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_punct(p));
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn next(&mut self) -> Option<&'t Token<'a>> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next() {
            Some(t) => t
                .ident()
                .or_else(|| {
                    (t.kind == Kind::String)
                        .then(|| lex::string_value(t.text).unwrap_or_default().into())
                })
                .map(|n| n.into_owned())
                .ok_or_else(|| format!("expected a name, found `{}`", t.text)),
            None => Err("expected a name, found the end".to_owned()),
        }
    }

    /// A possibly schema-qualified name: the last part.
    fn object_name(&mut self) -> Result<String, String> {
        let mut name = self.name()?;
        while self.eat_punct(".") {
            name = self.name()?;
        }
        Ok(name)
    }

    /// At `(`: the tokens inside the balanced parentheses (consumed).
    fn group(&mut self) -> Result<&'t [Token<'a>], String> {
        if !self.eat_punct("(") {
            return Err(format!(
                "expected `(`, found `{}`",
                self.peek().map_or("the end", |t| t.text)
            ));
        }
        let start = self.pos;
        let mut depth = 1;
        while let Some(t) = self.next() {
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    return Ok(&self.tokens[start..self.pos - 1]);
                }
            }
        }
        Err("unbalanced parentheses".to_owned())
    }

    fn skip_if_not_exists(&mut self) {
        self.eat_words(&["IF", "NOT", "EXISTS"]);
    }
}

/// Splits tokens at top-level commas.
fn split_commas<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth -= 1;
        } else if t.is_punct(",") && depth == 0 {
            out.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        out.push(&tokens[start..]);
    }
    out
}

fn expr(tokens: &[Token<'_>]) -> String {
    strip_outer_parens(D, &join(D, tokens)).to_owned()
}

/// The names of an indexed-column list (`a COLLATE x DESC, b`); expressions
/// contribute the names they mention.
fn column_names(tokens: &[Token<'_>]) -> Vec<String> {
    split_commas(tokens)
        .iter()
        .filter_map(|part| part.first().and_then(|t| t.ident()).map(|n| n.into_owned()))
        .collect()
}

const COLUMN_CONSTRAINT_START: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// What parsing a table left out of the model, by clause.
pub(crate) struct Parsed {
    pub(crate) table: Table,
    pub(crate) ignored: Vec<String>,
}

/// Parses `CREATE TABLE`; `Ok(None)` for `CREATE TABLE ... AS SELECT`
/// (columns then come from the pragmas alone).
pub(crate) fn create_table(sql: &str) -> Result<Option<Parsed>, String> {
    let tokens = lex::code_tokens(sql, D);
    let mut c = Cursor {
        tokens: &tokens,
        pos: 0,
    };
    if !c.eat_word("CREATE") {
        return Err("expected CREATE".to_owned());
    }
    let _ = c.eat_word("TEMP") || c.eat_word("TEMPORARY");
    if !c.eat_word("TABLE") {
        return Err("expected TABLE".to_owned());
    }
    c.skip_if_not_exists();
    let name = c.object_name()?;
    if c.peek_word("AS") {
        return Ok(None);
    }
    let body = c.group()?;
    let mut parsed = Parsed {
        table: Table::new(name),
        ignored: Vec::new(),
    };
    for element in split_commas(body) {
        table_element(element, &mut parsed)?;
    }
    // Table options: `WITHOUT ROWID`, `STRICT`, comma-separated.
    while let Some(t) = c.next() {
        if t.is_word("WITHOUT") && c.eat_word("ROWID") {
            parsed.table.options.push("WITHOUT ROWID".to_owned());
        } else if t.is_word("STRICT") {
            parsed.table.options.push("STRICT".to_owned());
        } else if !t.is_punct(",") && !t.is_punct(";") {
            return Err(format!("unexpected `{}` after the column list", t.text));
        }
    }
    parsed.table.options.sort();
    Ok(Some(parsed))
}

fn table_element(tokens: &[Token<'_>], p: &mut Parsed) -> Result<(), String> {
    let mut c = Cursor { tokens, pos: 0 };
    let mut name = None;
    if c.eat_word("CONSTRAINT") {
        name = Some(c.name()?);
    }
    if c.eat_words(&["PRIMARY", "KEY"]) {
        let cols = c.group()?;
        let conflict = conflict_clause(&mut c)?;
        p.table.primary_key = Some(key(
            "PRIMARY KEY",
            name,
            column_names(cols),
            &join(D, cols),
            conflict,
        ));
    } else if c.eat_word("UNIQUE") {
        let cols = c.group()?;
        let conflict = conflict_clause(&mut c)?;
        p.table.uniques.push(key(
            "UNIQUE",
            name,
            column_names(cols),
            &join(D, cols),
            conflict,
        ));
    } else if c.eat_word("CHECK") {
        let e = c.group()?;
        p.table.checks.push(check(name, e));
    } else if c.eat_words(&["FOREIGN", "KEY"]) {
        let cols = column_names(c.group()?);
        if !c.eat_word("REFERENCES") {
            return Err("expected REFERENCES".to_owned());
        }
        p.table.foreign_keys.push(references(&mut c, name, cols)?);
    } else if name.is_some() {
        return Err("expected a constraint after CONSTRAINT name".to_owned());
    } else {
        column(&mut c, p)?;
    }
    match c.peek() {
        None => Ok(()),
        Some(t) => Err(format!("unexpected `{}`", t.text)),
    }
}

fn key(
    kind: &str,
    name: Option<String>,
    columns: Vec<String>,
    list: &str,
    conflict: Option<String>,
) -> Key {
    let mut definition = format!("{kind} ({list})");
    if let Some(c) = conflict {
        definition.push(' ');
        definition.push_str(&c);
    }
    Key {
        name,
        columns,
        definition,
    }
}

fn check(name: Option<String>, tokens: &[Token<'_>]) -> Check {
    Check {
        name,
        definition: format!("CHECK ({})", expr(tokens)),
    }
}

/// `ON CONFLICT <resolution>`, canonical, if present.
fn conflict_clause(c: &mut Cursor<'_, '_>) -> Result<Option<String>, String> {
    if c.eat_words(&["ON", "CONFLICT"]) {
        let what = c.name()?;
        return Ok(Some(format!("ON CONFLICT {}", what.to_ascii_uppercase())));
    }
    Ok(None)
}

fn references(
    c: &mut Cursor<'_, '_>,
    name: Option<String>,
    columns: Vec<String>,
) -> Result<ForeignKey, String> {
    let ref_table = c.object_name()?;
    let ref_columns = if c.peek().is_some_and(|t| t.is_punct("(")) {
        column_names(c.group()?)
    } else {
        Vec::new()
    };
    let mut fk = ForeignKey {
        name,
        columns,
        ref_table,
        ref_columns,
        on_update: FkAction::NoAction,
        on_delete: FkAction::NoAction,
        options: String::new(),
    };
    let mut options = Vec::new();
    loop {
        if c.eat_word("ON") {
            let delete = if c.eat_word("DELETE") {
                true
            } else if c.eat_word("UPDATE") {
                false
            } else {
                return Err("expected DELETE or UPDATE after ON".to_owned());
            };
            let action = if c.eat_words(&["SET", "NULL"]) {
                FkAction::SetNull
            } else if c.eat_words(&["SET", "DEFAULT"]) {
                FkAction::SetDefault
            } else if c.eat_word("CASCADE") {
                FkAction::Cascade
            } else if c.eat_word("RESTRICT") {
                FkAction::Restrict
            } else if c.eat_words(&["NO", "ACTION"]) {
                FkAction::NoAction
            } else {
                return Err("expected a foreign key action".to_owned());
            };
            if delete {
                fk.on_delete = action;
            } else {
                fk.on_update = action;
            }
        } else if c.eat_word("MATCH") {
            options.push(format!("MATCH {}", c.name()?.to_ascii_uppercase()));
        } else if c.peek_word("NOT") || c.peek_word("DEFERRABLE") {
            let not = c.eat_word("NOT");
            if !c.eat_word("DEFERRABLE") {
                // `NOT NULL` after a column-level REFERENCES.
                c.pos -= usize::from(not);
                break;
            }
            let initially = if c.eat_word("INITIALLY") {
                if c.eat_word("DEFERRED") {
                    " INITIALLY DEFERRED"
                } else {
                    c.eat_word("IMMEDIATE");
                    ""
                }
            } else {
                ""
            };
            // Only `DEFERRABLE INITIALLY DEFERRED` changes anything in SQLite.
            if !not && !initially.is_empty() {
                options.push(format!("DEFERRABLE{initially}"));
            }
        } else {
            break;
        }
    }
    fk.options = options.join(" ");
    Ok(fk)
}

fn column(c: &mut Cursor<'_, '_>, p: &mut Parsed) -> Result<(), String> {
    let name = c.name()?;
    let type_start = c.pos;
    while let Some(t) = c.peek() {
        if COLUMN_CONSTRAINT_START.iter().any(|w| t.is_word(w)) {
            break;
        }
        if t.is_punct("(") {
            c.group()?;
        } else {
            c.pos += 1;
        }
    }
    let data_type = type_name(&c.tokens[type_start..c.pos]);
    let mut col = Column::new(name.clone(), data_type);
    let mut constraint_name = None;
    while c.peek().is_some() {
        if c.eat_word("CONSTRAINT") {
            constraint_name = Some(c.name()?);
            continue;
        }
        let cname = constraint_name.take();
        if c.eat_words(&["PRIMARY", "KEY"]) {
            let mut list = crate::quote::quote_ident(D, &name).to_ascii_lowercase();
            if c.eat_word("DESC") {
                list.push_str(" desc");
            } else {
                c.eat_word("ASC");
            }
            let conflict = conflict_clause(c)?;
            if c.eat_word("AUTOINCREMENT") {
                col.identity = Some(Identity::AutoIncrement);
            }
            p.table.primary_key = Some(key(
                "PRIMARY KEY",
                cname,
                vec![name.clone()],
                &list,
                conflict,
            ));
        } else if c.eat_words(&["NOT", "NULL"]) {
            col.nullable = false;
            if let Some(conflict) = conflict_clause(c)? {
                p.ignored
                    .push(format!("{conflict} of NOT NULL on {}", name));
            }
        } else if c.eat_word("NULL") {
            conflict_clause(c)?;
        } else if c.eat_word("UNIQUE") {
            let conflict = conflict_clause(c)?;
            let list = crate::quote::quote_ident(D, &name).to_ascii_lowercase();
            p.table
                .uniques
                .push(key("UNIQUE", cname, vec![name.clone()], &list, conflict));
        } else if c.eat_word("CHECK") {
            let e = c.group()?;
            p.table.checks.push(check(cname, e));
        } else if c.eat_word("DEFAULT") {
            col.default = Some(default_value(c)?);
        } else if c.eat_word("COLLATE") {
            col.collation = Some(c.name()?.to_ascii_uppercase());
        } else if c.eat_word("REFERENCES") {
            let fk = references(c, cname, vec![name.clone()])?;
            p.table.foreign_keys.push(fk);
        } else if c.eat_words(&["GENERATED", "ALWAYS", "AS"]) || c.eat_word("AS") {
            let e = c.group()?;
            let stored = c.eat_word("STORED");
            if !stored {
                c.eat_word("VIRTUAL");
            }
            col.generated = Some(Generated {
                expression: expr(e),
                stored,
            });
        } else {
            let found = c.peek().map_or("the end", |t| t.text);
            return Err(format!("unexpected `{found}` in column `{name}`"));
        }
    }
    p.table.columns.push(col);
    Ok(())
}

/// A declared type: words in upper case, arguments as written.
fn type_name(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for t in tokens {
        let text = if t.kind == Kind::Word {
            t.text.to_ascii_uppercase()
        } else {
            t.text.to_owned()
        };
        let glue = out.is_empty()
            || t.is_punct("(")
            || t.is_punct(")")
            || t.is_punct(",")
            || out.ends_with('(');
        if !glue {
            out.push(' ');
        }
        out.push_str(&text);
        if t.is_punct(",") {
            out.push(' ');
        }
    }
    out
}

/// `DEFAULT` followed by a literal, a signed number, a name or `(expr)`.
fn default_value(c: &mut Cursor<'_, '_>) -> Result<String, String> {
    if c.peek().is_some_and(|t| t.is_punct("(")) {
        let e = c.group()?;
        return Ok(expr(e));
    }
    let start = c.pos;
    if c.eat_punct("-") || c.eat_punct("+") {
        // a signed number
    }
    match c.next() {
        Some(_) => Ok(join(D, &c.tokens[start..c.pos])),
        None => Err("expected a default value".to_owned()),
    }
}

/// The parts of a stored `CREATE INDEX`: name, unique, the table, and the
/// canonical text after the table name.
pub(crate) struct ParsedIndex {
    pub(crate) unique: bool,
    pub(crate) definition: String,
    pub(crate) columns: Vec<String>,
}

/// Parses `CREATE [UNIQUE] INDEX`.
pub(crate) fn create_index(sql: &str) -> Result<ParsedIndex, String> {
    let tokens = lex::code_tokens(sql, D);
    let mut c = Cursor {
        tokens: &tokens,
        pos: 0,
    };
    if !c.eat_word("CREATE") {
        return Err("expected CREATE".to_owned());
    }
    let unique = c.eat_word("UNIQUE");
    if !c.eat_word("INDEX") {
        return Err("expected INDEX".to_owned());
    }
    c.skip_if_not_exists();
    c.object_name()?;
    if !c.eat_word("ON") {
        return Err("expected ON".to_owned());
    }
    c.name()?;
    let rest = &tokens[c.pos..];
    let cols = c.group()?;
    Ok(ParsedIndex {
        unique,
        definition: join(D, rest),
        columns: crate::normalise::idents(D, &join(D, cols)),
    })
}

/// The canonical text of a stored `CREATE VIEW` or `CREATE TRIGGER` after
/// its name.
pub(crate) fn after_name(sql: &str, kind: &str) -> Result<String, String> {
    let tokens = lex::code_tokens(sql, D);
    let mut c = Cursor {
        tokens: &tokens,
        pos: 0,
    };
    if !c.eat_word("CREATE") {
        return Err("expected CREATE".to_owned());
    }
    let _ = c.eat_word("TEMP") || c.eat_word("TEMPORARY");
    if !c.eat_word(kind) {
        return Err(format!("expected {kind}"));
    }
    c.skip_if_not_exists();
    c.object_name()?;
    Ok(join(D, &tokens[c.pos..]))
}

#[cfg(test)]
mod tests;
