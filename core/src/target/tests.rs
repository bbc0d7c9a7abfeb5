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
