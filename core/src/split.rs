//! Splitting a section of SQL into statements.
//!
//! Needed wherever statements run one at a time: revisions flagged
//! `Transactional: false` (PostgreSQL must not wrap them in its implicit
//! multi-statement transaction), MySQL/MariaDB (progress is recorded after
//! each statement), and precise error reports (statement number and line).
//!
//! A `;` ends a statement unless it is inside a string literal (`'...'` with
//! `''` escapes; backslash escapes in MySQL strings and PostgreSQL `E'...'`),
//! a quoted identifier (`"..."`, and `` `...` `` in MySQL), a comment (`--`
//! to end of line, `#` in MySQL, nestable `/* */` in PostgreSQL), a
//! PostgreSQL dollar-quoted string (`$$...$$`, `$tag$...$tag$`), or the body
//! of a routine or trigger (`CREATE ... TRIGGER/FUNCTION/PROCEDURE/EVENT` up
//! to the `END` matching its `BEGIN`).

/// The SQL dialect to split for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: dollar quoting, `E'...'` strings, nested block comments.
    Postgres,
    /// MySQL and MariaDB: backslash escapes, backticks, `#` comments.
    MySql,
    /// SQLite.
    Sqlite,
}

/// One statement of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, without the terminating `;`, trimmed of the
    /// whitespace SQL knows ([`is_space`]: ASCII space, tab, line feed,
    /// vertical tab, form feed, carriage return); comments inside it are
    /// kept. Any other character, a no-break space included, is left for
    /// the database to judge.
    pub sql: &'a str,
    /// 1-based line of the statement's first character within the section.
    pub line: u32,
}

/// Splits `sql` into statements; statements consisting only of comments and
/// whitespace are dropped.
///
/// ```
/// use retort_core::split::{split, Dialect};
/// let stmts = split("CREATE TABLE t (s TEXT DEFAULT 'a;b');\n-- c;\nINSERT INTO t VALUES ($$x;y$$);", Dialect::Postgres);
/// let sql: Vec<&str> = stmts.iter().map(|s| s.sql).collect();
/// assert_eq!(sql, ["CREATE TABLE t (s TEXT DEFAULT 'a;b')", "-- c;\nINSERT INTO t VALUES ($$x;y$$)"]);
/// assert_eq!(stmts[1].line, 2);
/// ```
pub fn split(sql: &str, dialect: Dialect) -> Vec<Statement<'_>> {
    Splitter {
        sql,
        bytes: sql.as_bytes(),
        dialect,
        pos: 0,
    }
    .run()
}

struct Splitter<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
}

/// The whitespace between SQL tokens: what the splitter skips and what it
/// trims from statements (the same set, so a statement is never empty).
pub fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\x0b'
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl<'a> Splitter<'a> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn run(mut self) -> Vec<Statement<'a>> {
        let mut out = Vec::new();
        let mut start = 0;
        // Keyword tracking for routine bodies.
        let mut words: Vec<String> = Vec::new();
        let mut depth = 0usize;
        let mut has_code = false;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b'\'' => {
                    has_code = true;
                    let backslash = self.dialect == Dialect::MySql || self.e_string_prefix();
                    self.skip_quoted(b'\'', backslash);
                }
                b'"' => {
                    has_code = true;
                    self.skip_quoted(b'"', self.dialect == Dialect::MySql);
                }
                b'`' if self.dialect == Dialect::MySql => {
                    has_code = true;
                    self.skip_quoted(b'`', false);
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    has_code = true;
                    self.skip_until(b"]");
                }
                b'-' if self.peek(1) == Some(b'-') => self.skip_line(),
                b'#' if self.dialect == Dialect::MySql => self.skip_line(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                b'$' if self.dialect == Dialect::Postgres && self.dollar_quote() => {
                    has_code = true;
                }
                b';' if depth == 0 => {
                    self.push(&mut out, start, self.pos, has_code);
                    self.pos += 1;
                    start = self.pos;
                    words.clear();
                    has_code = false;
                }
                _ if is_ident_byte(b) => {
                    has_code = true;
                    let word_start = self.pos;
                    while self.pos < self.bytes.len() && is_ident_byte(self.bytes[self.pos]) {
                        self.pos += 1;
                    }
                    let word = self.sql[word_start..self.pos].to_ascii_uppercase();
                    self.track_block(&mut words, &mut depth, word);
                    continue;
                }
                _ => {
                    if !is_space(char::from(b)) {
                        has_code = true;
                    }
                    self.pos += 1;
                }
            }
        }
        self.push(&mut out, start, self.bytes.len(), has_code);
        out
    }

    /// Tracks `BEGIN ... END` nesting inside `CREATE` routines and triggers,
    /// where `;` does not end the statement.
    fn track_block(&self, words: &mut Vec<String>, depth: &mut usize, word: String) {
        let in_routine = words.first().is_some_and(|w| w == "CREATE")
            && words
                .iter()
                .any(|w| matches!(w.as_str(), "TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT"));
        if in_routine {
            let previous = words.last().map(String::as_str);
            match word.as_str() {
                "BEGIN" => *depth += 1,
                // `CASE ... END` nests inside bodies; MySQL's `IF`, `LOOP`,
                // `WHILE` and `REPEAT` blocks end with `END IF` and friends.
                "CASE" if previous != Some("END") && *depth > 0 => *depth += 1,
                "IF" | "LOOP" | "WHILE" | "REPEAT"
                    if self.dialect == Dialect::MySql
                        && previous != Some("END")
                        && *depth > 0
                        && !self.next_is_paren() =>
                {
                    *depth += 1
                }
                "END" => *depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if words.len() < 64 {
            words.push(word);
        } else if let Some(last) = words.last_mut() {
            *last = word;
        }
    }

    fn next_is_paren(&self) -> bool {
        self.bytes[self.pos..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'(')
    }

    fn push(&self, out: &mut Vec<Statement<'a>>, start: usize, end: usize, has_code: bool) {
        if !has_code {
            return;
        }
        let raw = &self.sql[start..end];
        let leading = raw.len() - raw.trim_start_matches(is_space).len();
        let line = line_at(self.bytes, start + leading);
        out.push(Statement {
            sql: raw.trim_matches(is_space),
            line,
        });
    }

    fn e_string_prefix(&self) -> bool {
        self.dialect == Dialect::Postgres
            && self.pos > 0
            && matches!(self.bytes[self.pos - 1], b'e' | b'E')
            && (self.pos < 2 || !is_ident_byte(self.bytes[self.pos - 2]))
    }

    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if backslash && b == b'\\' {
                self.pos += 2;
                continue;
            }
            self.pos += 1;
            if b == quote {
                if self.bytes.get(self.pos) == Some(&quote) {
                    self.pos += 1; // doubled quote: an escaped quote
                } else {
                    return;
                }
            }
        }
    }

    fn skip_until(&mut self, end: &[u8]) {
        self.pos += 1;
        match find(&self.bytes[self.pos..], end) {
            Some(at) => self.pos += at + end.len(),
            None => self.pos = self.bytes.len(),
        }
    }

    fn skip_line(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'/' && self.peek(1) == Some(b'*') {
                depth += 1;
                self.pos += 2;
                if !nests && depth > 1 {
                    depth = 1;
                }
            } else if self.bytes[self.pos] == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
    }

    /// At a `$`: skips a dollar-quoted string and returns true, or returns
    /// false (leaving `pos`) when this `$` does not open one (`$1`, `a$b`).
    fn dollar_quote(&mut self) -> bool {
        if self.pos > 0 && is_ident_byte(self.bytes[self.pos - 1]) {
            return false;
        }
        let rest = &self.bytes[self.pos + 1..];
        let tag_len = rest
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80))
            .unwrap_or(rest.len());
        if rest.get(tag_len) != Some(&b'$') || rest.first().is_some_and(u8::is_ascii_digit) {
            return false;
        }
        let delimiter_len = tag_len + 2;
        let delimiter = &self.bytes[self.pos..self.pos + delimiter_len];
        let body = self.pos + delimiter_len;
        self.pos = match find(&self.bytes[body..], delimiter) {
            Some(at) => body + at + delimiter_len,
            None => self.bytes.len(),
        };
        true
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn line_at(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines).map_or(u32::MAX, |n| n.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    fn sql(text: &str, dialect: Dialect) -> Vec<&str> {
        split(text, dialect).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn strings_identifiers_and_comments() {
        let text = "INSERT INTO \"a;b\" VALUES ('x;''y'); -- tail; comment\n/* c; */ SELECT 1;";
        assert_eq!(
            sql(text, Dialect::Postgres),
            [
                "INSERT INTO \"a;b\" VALUES ('x;''y')",
                "-- tail; comment\n/* c; */ SELECT 1"
            ]
        );
        assert_eq!(
            sql("SELECT 1;;\n  ;-- only a comment;\n", Dialect::Sqlite),
            ["SELECT 1"]
        );
        assert!(split("-- nothing\n/* here */", Dialect::Postgres).is_empty());
    }

    #[test]
    fn postgres_dollar_quotes_and_e_strings() {
        let text = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;\n\
                    SELECT $$a;b$$, $1, E'it\\'s;', 'c:\\';\nSELECT /* a /* nested; */ still; */ 2";
        assert_eq!(
            sql(text, Dialect::Postgres),
            [
                "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql",
                "SELECT $$a;b$$, $1, E'it\\'s;', 'c:\\'",
                "SELECT /* a /* nested; */ still; */ 2"
            ]
        );
    }

    #[test]
    fn dollar_tags_must_match() {
        // `$b$` inside `$a$ ... $a$` does not close it; `$1` and `a$b`
        // open nothing.
        assert_eq!(
            sql(
                "SELECT $a$ x $b$; y $a$; SELECT a$b; SELECT $1;",
                Dialect::Postgres
            ),
            ["SELECT $a$ x $b$; y $a$", "SELECT a$b", "SELECT $1"]
        );
        // A tag cannot start with a digit: `$1$` is two parameters' signs.
        assert_eq!(
            sql("SELECT $1$; SELECT 2", Dialect::Postgres),
            ["SELECT $1$", "SELECT 2"]
        );
        // Dollar quotes are PostgreSQL's alone.
        assert_eq!(
            sql("SELECT $$a;b$$", Dialect::Sqlite),
            ["SELECT $$a", "b$$"]
        );
    }

    #[test]
    fn backslash_escapes_by_dialect() {
        let text = "SELECT 'a\\'; SELECT 2; SELECT 'b'";
        // MySQL: `\'` is an escaped quote, so the string runs on to `2; '`.
        assert_eq!(
            sql(text, Dialect::MySql),
            ["SELECT 'a\\'; SELECT 2; SELECT 'b'"]
        );
        // SQLite and plain PostgreSQL strings: a backslash is a character.
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(
                sql(text, dialect),
                ["SELECT 'a\\'", "SELECT 2", "SELECT 'b'"],
                "{dialect:?}"
            );
        }
        // PostgreSQL's `E'...'` takes escapes; `xE'...'` is not an E-string.
        assert_eq!(
            sql("SELECT e'\\';'; SELECT xE'\\'; SELECT 3", Dialect::Postgres),
            ["SELECT e'\\';'", "SELECT xE'\\'", "SELECT 3"]
        );
    }

    #[test]
    fn comment_syntax_by_dialect() {
        // `#` starts a comment in MySQL only.
        assert_eq!(
            sql("SELECT 1 # x; y\n; SELECT 2", Dialect::MySql),
            ["SELECT 1 # x; y", "SELECT 2"]
        );
        assert_eq!(
            sql("SELECT 1 # x; y\n; SELECT 2", Dialect::Postgres),
            ["SELECT 1 # x", "y", "SELECT 2"]
        );
        // Block comments nest in PostgreSQL only: elsewhere the first `*/`
        // closes the comment.
        let text = "/* a /* b */ ; */ SELECT 1";
        assert_eq!(sql(text, Dialect::Postgres), [text]);
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            assert_eq!(sql(text, dialect), ["*/ SELECT 1"], "{dialect:?}");
        }
        // A `--` comment runs to the end of its line only.
        assert_eq!(
            sql("SELECT 1 -- a;\n; SELECT 2", Dialect::Sqlite),
            ["SELECT 1 -- a;", "SELECT 2"]
        );
    }

    #[test]
    fn quoted_identifiers_by_dialect() {
        // Backticks quote in MySQL only, brackets in SQLite only.
        assert_eq!(sql("SELECT `a;b`", Dialect::MySql), ["SELECT `a;b`"]);
        assert_eq!(sql("SELECT `a;b`", Dialect::Sqlite), ["SELECT `a", "b`"]);
        assert_eq!(sql("SELECT [a;b]", Dialect::Sqlite), ["SELECT [a;b]"]);
        assert_eq!(sql("SELECT [a;b]", Dialect::Postgres), ["SELECT [a", "b]"]);
        // A doubled quote inside a quoted identifier is an escaped quote.
        assert_eq!(
            sql("SELECT \"a\"\";\"; SELECT 2", Dialect::Postgres),
            ["SELECT \"a\"\";\"", "SELECT 2"]
        );
    }

    #[test]
    fn mysql_backslashes_backticks_hash_comments_and_routines() {
        let text = "INSERT INTO `t;` VALUES ('a\\';b'); # note; here\n\
                    CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n  IF NEW.x > 0 THEN SET NEW.y = 1; END IF;\n  SET NEW.z = IF(NEW.x, 1, 2);\nEND;\nSELECT 1";
        let stmts = split(text, Dialect::MySql);
        assert_eq!(
            stmts.iter().map(|s| s.sql).collect::<Vec<_>>(),
            [
                "INSERT INTO `t;` VALUES ('a\\';b')",
                "# note; here\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n  IF NEW.x > 0 THEN SET NEW.y = 1; END IF;\n  SET NEW.z = IF(NEW.x, 1, 2);\nEND",
                "SELECT 1"
            ]
        );
        assert_eq!(stmts.iter().map(|s| s.line).collect::<Vec<_>>(), [1, 1, 6]);
    }

    #[test]
    fn mysql_procedure_with_loops_and_case() {
        let text = "CREATE PROCEDURE p() BEGIN\n\
                    WHILE x < 3 DO SET x = x + 1; END WHILE;\n\
                    REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;\n\
                    l: LOOP LEAVE l; END LOOP;\n\
                    SET y = CASE WHEN x THEN 1; ELSE 2 END;\n\
                    END;\nSELECT 2;";
        let stmts = sql(text, Dialect::MySql);
        assert_eq!(
            stmts,
            [&text[..text.len() - "\nSELECT 2;".len() - 1], "SELECT 2"]
        );
    }

    #[test]
    fn begin_outside_a_routine_does_not_nest() {
        // A transaction's `BEGIN` is a statement of its own.
        assert_eq!(
            sql("BEGIN; INSERT INTO t VALUES (1); END;", Dialect::Sqlite),
            ["BEGIN", "INSERT INTO t VALUES (1)", "END"]
        );
    }

    #[test]
    fn sqlite_triggers_with_case() {
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n UPDATE b SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\n DELETE FROM c;\nEND;\nCREATE TABLE [x;y] (id);";
        let stmts = split(text, Dialect::Sqlite);
        assert_eq!(
            stmts.iter().map(|s| s.sql).collect::<Vec<_>>(),
            [
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n UPDATE b SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\n DELETE FROM c;\nEND",
                "CREATE TABLE [x;y] (id)"
            ]
        );
        assert_eq!(stmts.iter().map(|s| s.line).collect::<Vec<_>>(), [1, 5]);
    }

    #[test]
    fn lines_count_from_the_section_start() {
        let stmts = split("\n\nSELECT 1;\n\n  SELECT\n2;", Dialect::Postgres);
        assert_eq!(stmts.iter().map(|s| s.line).collect::<Vec<_>>(), [3, 5]);
        // A comment before a statement belongs to it, and so does its line.
        let stmts = split("SELECT 1;\n-- why\nSELECT 2;", Dialect::Sqlite);
        assert_eq!(stmts[1].sql, "-- why\nSELECT 2");
        assert_eq!(stmts[1].line, 2);
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        let cases: [(&str, &[Dialect]); 8] = [
            ("SELECT 'a;b", &DIALECTS),
            ("SELECT \"a;b", &DIALECTS),
            ("SELECT /* a;b", &DIALECTS),
            ("SELECT $$a;b", &[Dialect::Postgres]),
            ("SELECT $t$a;b $u$", &[Dialect::Postgres]),
            ("SELECT E'\\';b", &[Dialect::Postgres]),
            ("SELECT `a;b", &[Dialect::MySql]),
            ("SELECT [a;b", &[Dialect::Sqlite]),
        ];
        for (text, dialects) in cases {
            for &dialect in dialects {
                assert_eq!(sql(text, dialect), [text], "{dialect:?}");
            }
        }
        // A routine whose `BEGIN` has no `END` takes the rest.
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2";
        assert_eq!(sql(text, Dialect::Sqlite), [text]);
    }

    #[test]
    fn plain_statements_split_like_a_naive_split() {
        // Without quotes, comments or routines, a `;` always ends a
        // statement.
        for text in ["a;b", " a ; b ;", ";;a\n;\nb c;;", "a b\nc", ""] {
            let naive: Vec<&str> = text
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            for dialect in DIALECTS {
                assert_eq!(sql(text, dialect), naive, "{text:?} {dialect:?}");
            }
        }
    }

    #[test]
    fn whitespace_is_what_sql_skips_and_nothing_else() {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            // A vertical tab is whitespace to every backend: skipped, trimmed.
            assert_eq!(
                sql("SELECT 1;\x0b;\x0bSELECT 2\x0b", dialect),
                ["SELECT 1", "SELECT 2"]
            );
            // A no-break space or an ideographic space is not: it stays, for
            // the database to judge, and no statement comes out empty.
            assert_eq!(sql("\u{a0}", dialect), ["\u{a0}"]);
            assert_eq!(
                sql("SELECT 1;\u{3000};SELECT 2", dialect),
                ["SELECT 1", "\u{3000}", "SELECT 2"]
            );
        }
    }
}
