//! Checksums of revision files and lineage hashes of revisions.
//!
//! Both are part of retort's on-disk contract: a database records them when a
//! revision is applied and compares them on every later run. They are therefore
//! versioned ([`SCHEME_VERSION`]) and must never change silently.
//!
//! # Scheme 1
//!
//! * **Checksum** — SHA-256 of the file's bytes after normalisation: a leading
//!   UTF-8 byte-order mark (`EF BB BF`) is removed, every `\r\n` becomes `\n`,
//!   then every remaining lone `\r` becomes `\n`. Nothing else is touched (no
//!   trimming of trailing whitespace), so any edit that can change what the
//!   database executes changes the checksum, and a Windows checkout does not.
//! * **Lineage hash** — SHA-256 of the UTF-8 bytes of
//!   `"retort-lineage:1\n" + checksum_hex + "\n"` followed, for every ancestor
//!   edge of the revision (its parents *and* its `Depends On` revisions, as one
//!   set sorted by revision id), by `id + " " + lineage_hex(id) + "\n"`.
//!   A revision's lineage hash therefore covers its own file and, transitively,
//!   every revision it stands on: if the lineage hashes recorded for the applied
//!   heads match, nothing applied was edited or removed.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Version of the checksum and lineage-hash scheme described in this module.
pub const SCHEME_VERSION: u32 = 1;

/// A SHA-256 digest: a revision file's checksum or a revision's lineage hash.
///
/// Displays (and parses) as 64 lowercase hexadecimal characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest256(pub [u8; 32]);

impl Digest256 {
    /// The digest as raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hexadecimal characters.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }
}

impl fmt::Display for Digest256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest256({})", self.to_hex())
    }
}

/// The text was not 64 hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest `{0}`: expected 64 hexadecimal characters")]
pub struct InvalidDigest(String);

impl FromStr for Digest256 {
    type Err = InvalidDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(InvalidDigest(s.to_owned()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(|| InvalidDigest(s.to_owned()))?;
            let lo = hex_value(pair[1]).ok_or_else(|| InvalidDigest(s.to_owned()))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Strips a leading UTF-8 byte-order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Feeds `bytes` to `sink` with the scheme's normalisation applied (BOM
/// stripped, CRLF and lone CR turned into LF), without allocating.
fn for_each_normalized_chunk(bytes: &[u8], mut sink: impl FnMut(&[u8])) {
    let mut rest = strip_bom(bytes);
    while let Some(pos) = rest.iter().position(|&b| b == b'\r') {
        sink(&rest[..pos]);
        sink(b"\n");
        rest = &rest[pos + 1..];
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    sink(rest);
}

/// Returns `bytes` normalised as the checksum sees them (see the module docs).
pub fn normalize(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for_each_normalized_chunk(bytes, |chunk| out.extend_from_slice(chunk));
    out
}

/// The checksum of a revision file's raw bytes (scheme 1).
///
/// ```
/// use retort_core::checksum::checksum;
/// assert_eq!(checksum(b"a\r\nb\r\n"), checksum(b"a\nb\n"));
/// assert_eq!(checksum(b"\xEF\xBB\xBFa\n"), checksum(b"a\n"));
/// assert_ne!(checksum(b"a\n"), checksum(b"a \n"));
/// ```
pub fn checksum(bytes: &[u8]) -> Digest256 {
    let mut hasher = Sha256::new();
    for_each_normalized_chunk(bytes, |chunk| hasher.update(chunk));
    Digest256(hasher.finalize().into())
}

/// The lineage hash of a revision (scheme 1), given its checksum and the
/// `(id, lineage hash)` of each of its parents and dependencies, in any order.
///
/// Duplicated ancestors (a revision that is both a parent and a dependency)
/// count once.
pub fn lineage<'a>(
    checksum: &Digest256,
    ancestors: impl IntoIterator<Item = (&'a str, &'a Digest256)>,
) -> Digest256 {
    let mut ancestors: Vec<(&str, &Digest256)> = ancestors.into_iter().collect();
    ancestors.sort_unstable_by(|a, b| a.0.cmp(b.0));
    ancestors.dedup_by(|a, b| a.0 == b.0);
    let mut hasher = Sha256::new();
    hasher.update(b"retort-lineage:1\n");
    hasher.update(checksum.to_hex().as_bytes());
    hasher.update(b"\n");
    for (id, hash) in ancestors {
        hasher.update(id.as_bytes());
        hasher.update(b" ");
        hasher.update(hash.to_hex().as_bytes());
        hasher.update(b"\n");
    }
    Digest256(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // sha256("") and sha256("abc"), from FIPS 180-2.
        assert_eq!(
            checksum(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            checksum(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn line_endings_and_bom_are_not_content() {
        let lf = b"-- x\nSELECT 1;\n";
        assert_eq!(checksum(lf), checksum(b"-- x\r\nSELECT 1;\r\n"));
        assert_eq!(checksum(lf), checksum(b"-- x\rSELECT 1;\r"));
        assert_eq!(checksum(lf), checksum(b"\xEF\xBB\xBF-- x\r\nSELECT 1;\n"));
        assert_eq!(normalize(b"a\r\r\nb"), b"a\n\nb");
        // A CR at the very end of a chunk boundary.
        assert_eq!(normalize(b"\r"), b"\n");
        assert_eq!(normalize(b"\r\n\r"), b"\n\n");
    }

    #[test]
    fn content_changes_are_detected() {
        assert_ne!(checksum(b"SELECT 1;\n"), checksum(b"SELECT 2;\n"));
        assert_ne!(checksum(b"SELECT 1;\n"), checksum(b"SELECT 1;\n\n"));
        assert_ne!(checksum(b"SELECT 1;\n"), checksum(b"SELECT 1; \n"));
        // Only a leading BOM is stripped.
        assert_ne!(checksum(b"a\xEF\xBB\xBF"), checksum(b"a"));
    }

    #[test]
    fn lineage_is_order_independent_and_covers_ancestors() {
        let c = checksum(b"x");
        let a = checksum(b"a");
        let b = checksum(b"b");
        let one = lineage(&c, [("a", &a), ("b", &b)]);
        let two = lineage(&c, [("b", &b), ("a", &a), ("a", &a)]);
        assert_eq!(one, two);
        assert_ne!(one, lineage(&c, [("a", &a)]));
        assert_ne!(one, lineage(&c, [("a", &b), ("b", &a)]));
        assert_ne!(lineage(&c, []), lineage(&a, []));
    }

    #[test]
    fn hex_round_trip() {
        let d = checksum(b"round trip");
        assert_eq!(d.to_hex().parse::<Digest256>(), Ok(d));
        assert_eq!(d.to_hex().to_uppercase().parse::<Digest256>(), Ok(d));
        assert!("xyz".parse::<Digest256>().is_err());
        assert!("g".repeat(64).parse::<Digest256>().is_err());
    }
}
