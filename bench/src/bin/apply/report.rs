//! Statistics over the samples, and the markdown report.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Opts;
use crate::setup::{Backend, HandleKind};
use crate::tools::Tool;

pub(crate) fn median(xs: &[Duration]) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

pub(crate) fn min(xs: &[Duration]) -> Duration {
    xs.iter().copied().min().unwrap_or_default()
}

pub(crate) fn max(xs: &[Duration]) -> Duration {
    xs.iter().copied().max().unwrap_or_default()
}

pub(crate) fn fmt_d(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

pub(crate) struct Samples {
    pub(crate) rows: Vec<(String, String, usize, Vec<Duration>)>,
    pub(crate) csv: String,
}

impl Samples {
    pub(crate) fn add(&mut self, backend: Backend, what: &str, tool: Tool, n: usize, d: Duration) {
        let _ = writeln!(
            self.csv,
            "{},{what},{},{n},{}",
            backend.name(),
            tool.name(),
            d.as_nanos()
        );
        let key = (what.to_owned(), tool.name().to_owned(), n);
        match self
            .rows
            .iter_mut()
            .find(|r| (r.0.as_str(), r.1.as_str(), r.2) == (key.0.as_str(), key.1.as_str(), key.2))
        {
            Some(r) => r.3.push(d),
            None => self.rows.push((key.0, key.1, key.2, vec![d])),
        }
    }

    pub(crate) fn get(&self, what: &str, tool: Tool, n: usize) -> Option<&[Duration]> {
        self.rows
            .iter()
            .find(|r| r.0 == what && r.1 == tool.name() && r.2 == n)
            .map(|r| r.3.as_slice())
    }
}

pub(crate) fn report(o: &Opts, s: &Samples) -> String {
    let mut out = String::new();
    let b = o.backend.name();
    let handle = match o.handle {
        HandleKind::Pool => "pool",
        HandleKind::Conn => "connection",
    };
    if o.tools
        .iter()
        .any(|&t| s.get("apply", t, o.apply_n).is_some())
    {
        let floor = s.get("apply", Tool::Raw, o.apply_n).map(median);
        let _ = writeln!(
            out,
            "#### {b}: applying {} revisions to an empty database (sqlx tools given a {handle}; {} runs)\n",
            o.apply_n, o.apply_reps
        );
        let _ = writeln!(
            out,
            "| tool | median | min | max | per revision | ÷ raw floor |\n|---|---:|---:|---:|---:|---:|"
        );
        for &tool in &o.tools {
            let Some(xs) = s.get("apply", tool, o.apply_n) else {
                continue;
            };
            let m = median(xs);
            let ratio = floor.map_or_else(
                || "–".to_owned(),
                |f| format!("{:.2}×", m.as_secs_f64() / f.as_secs_f64()),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {ratio} |",
                tool.name(),
                fmt_d(m),
                fmt_d(min(xs)),
                fmt_d(max(xs)),
                fmt_d(m / u32::try_from(o.apply_n).unwrap_or(1)),
            );
        }
        out.push('\n');
    }
    if !o.noop_sizes.is_empty() && s.get("noop", Tool::Retort, o.noop_sizes[0]).is_some() {
        let _ = writeln!(
            out,
            "#### {b}: no-op startup check, already at head (median of {} calls; sqlx tools given a {handle})\n",
            o.noop_reps
        );
        let mut header = "| tool |".to_owned();
        let mut rule = "|---|".to_owned();
        for &n in &o.noop_sizes {
            let _ = write!(header, " N = {n} (median / min / max) |");
            rule.push_str("---:|");
        }
        if o.noop_sizes.len() >= 2 {
            let _ = write!(
                header,
                " N = {} ÷ N = {} |",
                o.noop_sizes[o.noop_sizes.len() - 1],
                o.noop_sizes[0]
            );
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for &tool in &o.tools {
            if matches!(tool, Tool::Raw | Tool::RawStmt) {
                continue;
            }
            let _ = write!(out, "| {} |", tool.name());
            for &n in &o.noop_sizes {
                match s.get("noop", tool, n) {
                    Some(xs) => {
                        let _ = write!(
                            out,
                            " {} / {} / {} |",
                            fmt_d(median(xs)),
                            fmt_d(min(xs)),
                            fmt_d(max(xs))
                        );
                    }
                    None => out.push_str(" – |"),
                }
            }
            if o.noop_sizes.len() >= 2 {
                let first = s.get("noop", tool, o.noop_sizes[0]).map(median);
                let last = s
                    .get("noop", tool, o.noop_sizes[o.noop_sizes.len() - 1])
                    .map(median);
                match (first, last) {
                    (Some(a), Some(z)) => {
                        let _ = write!(out, " {:.2}× |", z.as_secs_f64() / a.as_secs_f64());
                    }
                    _ => out.push_str(" – |"),
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
