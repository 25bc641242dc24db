//! The `format`s eventlake asserts ([`Format`]); any other format name is an annotation. Each is
//! read strictly, by its RFC's ABNF, as the JSON-Schema-Test-Suite's `optional/format` tests do:
//!
//! - `date-time`, `date`, `time`: RFC 3339 `date-time`, `full-date`, `full-time`; a leap second
//!   (`:60`) only where the time is 23:59:60 in UTC.
//! - `duration`: RFC 3339 appendix A (ISO 8601 durations without fractions; weeks stand alone).
//! - `email`: RFC 5321 `Mailbox`, ASCII only: a dot-string or quoted local part of at most 64
//!   octets, then a `hostname` or an address literal (`[IPv4]`, `[IPv6:…]`).
//!   `idn-email`: the same with RFC 6531's UTF-8 in the local part and an `idn-hostname`.
//! - `hostname`: RFC 1123 LDH labels (at most 63 octets each, 253 in all); a label starting `xn--`
//!   must be a valid A-label, as in `idn-hostname`.
//! - `idn-hostname`: IDNA2008 (RFC 5890-5893) after UTS #46 processing (mapping, NFC, the four
//!   full stops, STD3 rules, CheckJoiners, CheckBidi, DNS lengths), plus what UTS #46 leaves out:
//!   RFC 5892 code point categories, its exceptions, the CONTEXTO rules, canonical Punycode, and
//!   no `--` in the 3rd and 4th position of a U-label.
//! - `ipv4`: dotted quad without leading zeros. `ipv6`: RFC 4291 text form, no zone or prefix.
//! - `uri`, `uri-reference`: RFC 3986. `iri`, `iri-reference`: RFC 3987 (`ucschar` anywhere a
//!   URI allows unreserved characters, `iprivate` in the query).
//! - `uuid`: RFC 4122 `8-4-4-4-12` hex digits, any version and variant.
//! - `json-pointer`: RFC 6901. `relative-json-pointer`: draft-bhutton-relative-json-pointer-00
//!   (with index manipulation, `0+1/a`).
//! - `regex`: an ECMA-262 (2025) pattern parsed as with the `u` flag, as JSON Schema 2020-12
//!   recommends, including its early errors (back references to missing groups, duplicate group
//!   names in one alternative, `{2,1}`, `[z-a]`, unknown `\p{…}` properties).
//! - `uri-template`: RFC 6570 level 4 syntax (the reserved operators `=,!@|` parse, as the ABNF
//!   allows); a literal `'` is allowed, as the suite expects (the ABNF's `literals` omit it,
//!   though its prose and `sub-delims` do not).
//!
//! Gaps: the Unicode tables are those the `idna` and `icu_properties` crates ship, not IDNA2008's
//! derivation from Unicode 5.2; `regex` checks syntax, not that the `regex` crate
//! can run the pattern (it lacks look-around and back references), and rejects groups nested more
//! than 256 deep (a bound on recursion); `\p{…}` accepts the names ICU knows, which may be newer
//! than a given JavaScript engine's.
//!
//! Parsers return the stored value so the writer never re-parses.

use icu_properties::props::{
    DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup, HangulSyllableType, IdContinue, IdStart,
    NoncharacterCodePoint, Script, WhiteSpace,
};
use icu_properties::{CodePointMapData, CodePointSetData, PropertyParser};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// A `format` eventlake asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DateTime,
    Date,
    Time,
    Duration,
    Email,
    IdnEmail,
    Hostname,
    IdnHostname,
    Ipv4,
    Ipv6,
    Uri,
    UriReference,
    Iri,
    IriReference,
    Uuid,
    JsonPointer,
    RelativeJsonPointer,
    Regex,
    UriTemplate,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 19] = [
        Format::DateTime,
        Format::Date,
        Format::Time,
        Format::Duration,
        Format::Email,
        Format::IdnEmail,
        Format::Hostname,
        Format::IdnHostname,
        Format::Ipv4,
        Format::Ipv6,
        Format::Uri,
        Format::UriReference,
        Format::Iri,
        Format::IriReference,
        Format::Uuid,
        Format::JsonPointer,
        Format::RelativeJsonPointer,
        Format::Regex,
        Format::UriTemplate,
    ];

    /// The format a schema's `format` names; `None` for a name eventlake does not assert (an
    /// annotation).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The name a schema uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Duration => "duration",
            Format::Email => "email",
            Format::IdnEmail => "idn-email",
            Format::Hostname => "hostname",
            Format::IdnHostname => "idn-hostname",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::Uri => "uri",
            Format::UriReference => "uri-reference",
            Format::Iri => "iri",
            Format::IriReference => "iri-reference",
            Format::Uuid => "uuid",
            Format::JsonPointer => "json-pointer",
            Format::RelativeJsonPointer => "relative-json-pointer",
            Format::Regex => "regex",
            Format::UriTemplate => "uri-template",
        }
    }

    /// Whether `s` is in this format.
    pub fn is_valid(self, s: &str) -> bool {
        match self {
            Format::DateTime => parse_date_time(s).is_some(),
            Format::Date => parse_date(s).is_some(),
            Format::Time => parse_full_time(s.as_bytes()).is_some(),
            Format::Duration => is_duration(s),
            Format::Email => is_email(s),
            Format::IdnEmail => mailbox(s, true),
            Format::Hostname => is_hostname(s),
            Format::IdnHostname => is_idn_hostname(s),
            Format::Ipv4 => is_ipv4(s),
            Format::Ipv6 => ipv6_with(s, is_ipv4),
            Format::Uri => uri::is_reference(s, false, true),
            Format::UriReference => uri::is_reference(s, false, false),
            Format::Iri => uri::is_reference(s, true, true),
            Format::IriReference => uri::is_reference(s, true, false),
            Format::Uuid => is_uuid(s),
            Format::JsonPointer => is_json_pointer(s),
            Format::RelativeJsonPointer => is_relative_json_pointer(s),
            Format::Regex => ecma::is_pattern(s),
            Format::UriTemplate => uri::is_template(s),
        }
    }
}

// ---- date-time, date, time, duration (RFC 3339) ----

/// Microseconds since the Unix epoch of an RFC 3339 `date-time`. Fractions beyond microseconds are
/// truncated; a leap second (`:60`) counts as the last microsecond of its minute.
pub fn parse_date_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let days = parse_date_bytes(b.get(..10)?)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let t = parse_full_time(b.get(11..)?)?;
    let local_minutes = i64::from(t.hour) * 60 + i64::from(t.minute);
    let secs = days * 86_400 + local_minutes * 60 - t.offset_minutes * 60 + i64::from(t.second.min(59));
    let micros = if t.second == 60 { 999_999 } else { t.micros };
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// Days since the Unix epoch of an RFC 3339 `full-date` (`YYYY-MM-DD`).
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    i32::try_from(parse_date_bytes(b)?).ok()
}

fn parse_date_bytes(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(two(b, 0)?) * 100 + i64::from(two(b, 2)?);
    let month = two(b, 5)?;
    let day = two(b, 8)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, i64::from(month), i64::from(day)))
}

/// An RFC 3339 `full-time`: `partial-time time-offset`.
struct FullTime {
    hour: u32,
    minute: u32,
    /// 0 to 60; 60 only at 23:59 UTC.
    second: u32,
    /// The fraction, truncated to microseconds.
    micros: i64,
    /// East of UTC.
    offset_minutes: i64,
}

/// `b` must be exactly a `full-time`.
fn parse_full_time(b: &[u8]) -> Option<FullTime> {
    let hour = two(b, 0)?;
    let minute = two(b, 3)?;
    let second = two(b, 6)?;
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 8;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d @ b'0'..=b'9') = b.get(i) {
            if i - start < 6 {
                micros = micros * 10 + i64::from(d - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = two(b, i + 1)?;
            let om = two(b, i + 4)?;
            if b.get(i + 3) != Some(&b':') || oh > 23 || om > 59 {
                return None;
            }
            i += 6;
            let m = i64::from(oh) * 60 + i64::from(om);
            if sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    // A leap second exists only at 23:59:60 UTC.
    let local_minutes = i64::from(hour) * 60 + i64::from(minute);
    if second == 60 && (local_minutes - offset_minutes).rem_euclid(24 * 60) != 23 * 60 + 59 {
        return None;
    }
    Some(FullTime { hour, minute, second, micros, offset_minutes })
}

fn two(b: &[u8], i: usize) -> Option<u32> {
    match (b.get(i), b.get(i + 1)) {
        (Some(a @ b'0'..=b'9'), Some(c @ b'0'..=b'9')) => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 appendix A: `P` then a week alone, or date elements (a run of `Y M D`) and/or `T` and
/// time elements (a run of `H M S`), each an integer and its letter. ABNF strings are
/// case-insensitive, so `p1d` is a duration too.
fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(['P', 'p']) else {
        return false;
    };
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let Some(date_units) = duration_units(date) else {
        return false;
    };
    if date_units == b"W" {
        return time.is_none();
    }
    let time_units = match time.map(duration_units) {
        None => Vec::new(),
        Some(Some(units)) if !units.is_empty() => units,
        Some(_) => return false,
    };
    (!date_units.is_empty() || !time_units.is_empty())
        && units_in_order(&date_units, b"YMD")
        && units_in_order(&time_units, b"HMS")
}

/// The (upper-cased) letters of `s` as a sequence of `1*DIGIT letter` elements.
fn duration_units(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut units = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let unit = b.get(i)?.to_ascii_uppercase();
        if i == start {
            return None;
        }
        units.push(unit);
        i += 1;
    }
    Some(units)
}

/// Whether `units` is a run of consecutive letters of `order` (for `YMD`: Y, YM, YMD, M, MD, D).
fn units_in_order(units: &[u8], order: &[u8]) -> bool {
    let Some(first) = units.first() else {
        return true;
    };
    order.iter().position(|u| u == first).is_some_and(|start| order.get(start..start + units.len()) == Some(units))
}

// ---- uuid, json-pointer, relative-json-pointer ----

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 6901: empty, or `/`-prefixed tokens in which `~` only starts `~0` or `~1`.
fn is_json_pointer(s: &str) -> bool {
    let b = s.as_bytes();
    (b.is_empty() || b[0] == b'/')
        && b.iter().enumerate().all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// `non-negative-integer [("+" / "-") non-negative-integer] (json-pointer / "#")`.
fn is_relative_json_pointer(s: &str) -> bool {
    let Some(rest) = strip_non_negative_integer(s) else {
        return false;
    };
    let rest = match rest.strip_prefix(['+', '-']) {
        Some(index) => match strip_non_negative_integer(index) {
            Some(rest) => rest,
            None => return false,
        },
        None => rest,
    };
    rest == "#" || is_json_pointer(rest)
}

/// `s` after a leading `"0" / %x31-39 *DIGIT`.
fn strip_non_negative_integer(s: &str) -> Option<&str> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (n == 1 || (n > 1 && !s.starts_with('0'))).then(|| &s[n..])
}

// ---- email, idn-email (RFC 5321, RFC 6531) ----

/// An RFC 5321 `Mailbox`: a dot-string or quoted local part (ASCII), then a `hostname` or an
/// address literal.
pub fn is_email(s: &str) -> bool {
    mailbox(s, false)
}

/// A `Mailbox`; `intl` reads it by RFC 6531 (UTF-8 in atoms and quoted strings, an IDN domain).
fn mailbox(s: &str, intl: bool) -> bool {
    let Some(at) = local_part_end(s, intl) else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    // RFC 5321 4.5.3.1.1: at most 64 octets.
    if local.is_empty() || local.len() > 64 {
        return false;
    }
    if let Some(literal) = domain.strip_prefix('[') {
        return literal.strip_suffix(']').is_some_and(address_literal);
    }
    if intl { is_idn_hostname(domain) } else { is_hostname(domain) }
}

/// Index of the `@` after a well-formed local part (a quoted local part may contain `@`).
fn local_part_end(s: &str, intl: bool) -> Option<usize> {
    let Some(quoted) = s.strip_prefix('"') else {
        let at = s.find('@')?;
        let atom_ok = |c: char| is_atext(c) || (intl && !c.is_ascii());
        return s[..at].split('.').all(|atom| !atom.is_empty() && atom.chars().all(atom_ok)).then_some(at);
    };
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return quoted[i + 1..].starts_with('@').then_some(i + 2),
            // quoted-pairSMTP: a backslash and a printable ASCII character.
            '\\' if chars.next().is_some_and(|(_, e)| matches!(e, ' '..='~')) => {}
            // qtextSMTP.
            ' ' | '!' | '#'..='[' | ']'..='~' => {}
            _ if intl && !c.is_ascii() => {}
            _ => return None,
        }
    }
    None
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// The inside of `[…]` after the `@`: an IPv4 or `IPv6:` address literal (RFC 5321 4.1.3). No
/// other `Standardized-tag` is registered, so general address literals are invalid.
fn address_literal(literal: &str) -> bool {
    match literal.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => ipv6_with(&literal[5..], is_snum_ipv4),
        _ => is_snum_ipv4(literal),
    }
}

/// RFC 5321 `IPv4-address-literal`: four `Snum`s (1 to 3 digits, at most 255; leading zeros allowed).
fn is_snum_ipv4(s: &str) -> bool {
    let mut parts = 0;
    s.split('.').all(|p| {
        parts += 1;
        (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|v| v <= 255)
    }) && parts == 4
}

// ---- ipv4, ipv6 ----

/// A dotted quad of `dec-octet`s (RFC 3986: no leading zeros, no other notation).
fn is_ipv4(s: &str) -> bool {
    let mut parts = 0;
    s.split('.').all(|p| {
        parts += 1;
        let b = p.as_bytes();
        (1..=3).contains(&b.len())
            && b.iter().all(u8::is_ascii_digit)
            && (b.len() == 1 || b[0] != b'0')
            && p.parse::<u16>().is_ok_and(|v| v <= 255)
    }) && parts == 4
}

/// RFC 4291 2.2 (the `IPv6address` of RFC 3986): eight `h16` groups, or fewer around one `::`; the
/// last 32 bits may be an IPv4 address, read by `ipv4`.
fn ipv6_with(s: &str, ipv4: fn(&str) -> bool) -> bool {
    let (head, tail) = match s.split_once("::") {
        Some((head, tail)) => (head, Some(tail)),
        None => (s, None),
    };
    let Some(head_groups) = ipv6_groups(head, tail.is_none(), ipv4) else {
        return false;
    };
    match tail {
        None => head_groups == 8,
        // `::` stands for at least one group.
        Some(tail) => ipv6_groups(tail, true, ipv4).is_some_and(|n| head_groups + n <= 7),
    }
}

/// How many 16-bit groups `h16 *(":" h16)` holds (an IPv4 last part, if allowed, counts two).
fn ipv6_groups(s: &str, ipv4_last: bool, ipv4: fn(&str) -> bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut parts = s.split(':').peekable();
    while let Some(p) = parts.next() {
        if (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()) {
            n += 1;
        } else if ipv4_last && parts.peek().is_none() && ipv4(p) {
            n += 2;
        } else {
            return None;
        }
    }
    Some(n)
}

// ---- hostname, idn-hostname (RFC 1123, IDNA2008) ----

/// RFC 1123 host name: LDH labels of 1 to 63 octets, not starting or ending with `-`, 253 octets
/// in all; `xn--` labels must be valid A-labels.
fn is_hostname(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let mut a_labels = false;
    for label in s.split('.') {
        let b = label.as_bytes();
        if b.is_empty()
            || b.len() > 63
            || b[0] == b'-'
            || b[b.len() - 1] == b'-'
            || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            return false;
        }
        a_labels |= b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"xn--");
    }
    !a_labels || is_idn_hostname(s)
}

/// IDNA2008 after UTS #46 processing: `idna` maps the input (so `。` separates labels and text
/// that is not NFC is normalised), applies STD3 rules, the leading/trailing hyphen rule,
/// CheckJoiners (CONTEXTJ), CheckBidi (RFC 5893) and DNS lengths, and converts it to A-labels.
/// Each A-label is then decoded and held to what UTS #46 leaves to IDNA2008.
fn is_idn_hostname(s: &str) -> bool {
    let Ok(ascii) =
        Uts46::new().to_ascii(s.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast, DnsLength::Verify)
    else {
        return false;
    };
    ascii.split('.').all(|label| match label.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("xn--") => a_label_ok(&label[4..].to_ascii_lowercase()),
        _ => true,
    })
}

/// An A-label's Punycode (lower-case, without `xn--`): it must decode to a non-ASCII U-label that
/// encodes back to the same text (RFC 5891 5.4), without `--` in the 3rd and 4th position
/// (4.2.3.1), whose code points are all allowed in context (RFC 5892).
fn a_label_ok(punycode: &str) -> bool {
    let Some(u) = idna::punycode::decode(punycode) else {
        return false;
    };
    !u.iter().all(char::is_ascii)
        && idna::punycode::encode(&u).is_some_and(|again| again == punycode)
        && !(u.get(2) == Some(&'-') && u.get(3) == Some(&'-'))
        && u.iter().enumerate().all(|(i, &c)| idna2008_allowed(&u, i, c))
}

/// RFC 5892's derived property of `label[i]` (PVALID, or CONTEXTO with its rule from appendix A
/// met). CONTEXTJ (ZWJ, ZWNJ) was checked by UTS #46 CheckJoiners.
fn idna2008_allowed(label: &[char], i: usize, c: char) -> bool {
    let script = |c: &char| CodePointMapData::<Script>::new().get(*c);
    match c {
        'a'..='z' | '0'..='9' | '-' | '\u{200C}' | '\u{200D}' => true,
        // Exceptions (2.6): PVALID whatever their category ...
        '\u{DF}' | '\u{3C2}' | '\u{6FD}' | '\u{6FE}' | '\u{F0B}' | '\u{3007}' => true,
        // ... and DISALLOWED.
        '\u{640}' | '\u{7FA}' | '\u{302E}' | '\u{302F}' | '\u{3031}'..='\u{3035}' | '\u{303B}' => false,
        // A.3 MIDDLE DOT: between two `l`s.
        '\u{B7}' => i > 0 && label.get(i - 1) == Some(&'l') && label.get(i + 1) == Some(&'l'),
        // A.4 GREEK KERAIA: followed by Greek.
        '\u{375}' => label.get(i + 1).is_some_and(|n| script(n) == Script::Greek),
        // A.5, A.6 HEBREW GERESH, GERSHAYIM: preceded by Hebrew.
        '\u{5F3}' | '\u{5F4}' => i > 0 && label.get(i - 1).is_some_and(|p| script(p) == Script::Hebrew),
        // A.7 KATAKANA MIDDLE DOT: some Hiragana, Katakana or Han in the label.
        '\u{30FB}' => label.iter().any(|n| matches!(script(n), Script::Hiragana | Script::Katakana | Script::Han)),
        // A.8, A.9: Arabic-Indic and Extended Arabic-Indic digits do not mix.
        '\u{660}'..='\u{669}' => !label.iter().any(|n| ('\u{6F0}'..='\u{6F9}').contains(n)),
        '\u{6F0}'..='\u{6F9}' => !label.iter().any(|n| ('\u{660}'..='\u{669}').contains(n)),
        _ => !c.is_ascii() && pvalid_by_category(c),
    }
}

/// RFC 5892 2.1-2.9 for a code point that is no exception: letters, digits and marks, unless
/// ignorable, in an ignorable block, or old Hangul jamo. (Unstable code points were mapped away
/// by UTS #46.)
fn pvalid_by_category(c: char) -> bool {
    let ignorable_block = matches!(u32::from(c), 0x20D0..=0x20FF | 0x1D100..=0x1D24F);
    let old_hangul_jamo = matches!(
        CodePointMapData::<HangulSyllableType>::new().get(c),
        HangulSyllableType::LeadingJamo | HangulSyllableType::VowelJamo | HangulSyllableType::TrailingJamo
    );
    let ignorable_property = CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointSetData::new::<WhiteSpace>().contains(c)
        || CodePointSetData::new::<NoncharacterCodePoint>().contains(c);
    !ignorable_block
        && !old_hangul_jamo
        && !ignorable_property
        && matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::LowercaseLetter
                | GeneralCategory::UppercaseLetter
                | GeneralCategory::OtherLetter
                | GeneralCategory::DecimalNumber
                | GeneralCategory::ModifierLetter
                | GeneralCategory::NonspacingMark
                | GeneralCategory::SpacingMark
        )
}

// ---- uri, uri-reference, iri, iri-reference, uri-template (RFC 3986, 3987, 6570) ----

mod uri {
    /// An RFC 3986 `URI-reference` (`iri`: RFC 3987 `IRI-reference`); `absolute`: a `URI`/`IRI`,
    /// which must have a scheme (a fragment is allowed, as in the ABNF).
    pub(super) fn is_reference(s: &str, iri: bool, absolute: bool) -> bool {
        let (rest, fragment) = split(s, '#');
        let (rest, query) = split(rest, '?');
        if !fragment.is_none_or(|f| chars_ok(f, iri, ":@/?", false))
            || !query.is_none_or(|q| chars_ok(q, iri, ":@/?", true))
        {
            return false;
        }
        // A colon before any slash ends a scheme; a relative reference's first segment has none.
        let hier = match rest.find([':', '/']) {
            Some(i) if rest.as_bytes()[i] == b':' => {
                if !is_scheme(&rest[..i]) {
                    return false;
                }
                &rest[i + 1..]
            }
            _ if absolute => return false,
            _ => rest,
        };
        match hier.strip_prefix("//") {
            Some(net) => {
                let (authority, path) = net.find('/').map_or((net, ""), |i| net.split_at(i));
                authority_ok(authority, iri) && chars_ok(path, iri, ":@/", false)
            }
            None => chars_ok(hier, iri, ":@/", false),
        }
    }

    fn split(s: &str, at: char) -> (&str, Option<&str>) {
        match s.split_once(at) {
            Some((head, tail)) => (head, Some(tail)),
            None => (s, None),
        }
    }

    /// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    fn is_scheme(s: &str) -> bool {
        s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    }

    /// `[ userinfo "@" ] host [ ":" port ]`.
    fn authority_ok(authority: &str, iri: bool) -> bool {
        let (userinfo, host_port) = match authority.split_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        if !userinfo.is_none_or(|u| chars_ok(u, iri, ":", false)) {
            return false;
        }
        let (host_ok, port) = match host_port.strip_prefix('[') {
            Some(literal) => match literal.split_once(']') {
                Some((inner, after)) => (ip_literal(inner), after),
                None => return false,
            },
            None => {
                let end = host_port.find(':').unwrap_or(host_port.len());
                (chars_ok(&host_port[..end], iri, "", false), &host_port[end..])
            }
        };
        host_ok && (port.is_empty() || port.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
    }

    /// The inside of `[…]`: an IPv6 address or `IPvFuture` (`v` 1*HEXDIG `.` 1*(unreserved /
    /// sub-delims / `:`)).
    fn ip_literal(inner: &str) -> bool {
        match inner.strip_prefix(['v', 'V']) {
            Some(future) => future.split_once('.').is_some_and(|(version, rest)| {
                !version.is_empty()
                    && version.bytes().all(|b| b.is_ascii_hexdigit())
                    && !rest.is_empty()
                    && rest.chars().all(|c| c.is_ascii() && (unreserved_or_sub_delim(c) || c == ':'))
            }),
            None => super::ipv6_with(inner, super::is_ipv4),
        }
    }

    /// Whether `s` is `*( unreserved / pct-encoded / sub-delims / extra )`; `iri` adds `ucschar`
    /// and, with `private` (the query), `iprivate`.
    fn chars_ok(s: &str, iri: bool, extra: &str, private: bool) -> bool {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            rest = if c == '%' {
                match strip_pct_encoded(rest) {
                    Some(rest) => rest,
                    None => return false,
                }
            } else if (c.is_ascii() && (unreserved_or_sub_delim(c) || extra.contains(c)))
                || (iri && (is_ucschar(c) || (private && is_iprivate(c))))
            {
                &rest[c.len_utf8()..]
            } else {
                return false;
            };
        }
        true
    }

    fn unreserved_or_sub_delim(c: char) -> bool {
        c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=".contains(c)
    }

    /// `rest` after a leading `"%" HEXDIG HEXDIG`.
    fn strip_pct_encoded(rest: &str) -> Option<&str> {
        let b = rest.as_bytes();
        (b.len() >= 3 && b[0] == b'%' && b[1].is_ascii_hexdigit() && b[2].is_ascii_hexdigit()).then(|| &rest[3..])
    }

    /// RFC 3987 `ucschar`.
    fn is_ucschar(c: char) -> bool {
        match u32::from(c) {
            0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF | 0xE1000..=0xEFFFD => true,
            // Planes 1 to 13, less each plane's last two code points.
            u @ 0x10000..=0xDFFFF => u & 0xFFFF <= 0xFFFD,
            _ => false,
        }
    }

    /// RFC 3987 `iprivate`.
    fn is_iprivate(c: char) -> bool {
        matches!(u32::from(c), 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
    }

    /// RFC 6570: literals and `{` [operator] varspec *( "," varspec ) `}` expressions.
    pub(super) fn is_template(s: &str) -> bool {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            rest = match c {
                '{' => match rest.find('}') {
                    Some(end) if expression_ok(&rest[1..end]) => &rest[end + 1..],
                    _ => return false,
                },
                '%' => match strip_pct_encoded(rest) {
                    Some(rest) => rest,
                    None => return false,
                },
                // `literals`, plus `'` (a sub-delim the ABNF leaves out; the suite allows it).
                '!' | '#' | '$' | '&'..=';' | '=' | '?'..='[' | ']' | '_' | 'a'..='z' | '~' => &rest[1..],
                c if is_ucschar(c) || is_iprivate(c) => &rest[c.len_utf8()..],
                _ => return false,
            };
        }
        true
    }

    fn expression_ok(e: &str) -> bool {
        let vars = e.strip_prefix(|c| "+#./;?&=,!@|".contains(c)).unwrap_or(e);
        vars.split(',').all(|spec| {
            let (name, modifier) = spec.split_at(spec.find([':', '*']).unwrap_or(spec.len()));
            varname_ok(name)
                && match modifier.strip_prefix(':') {
                    // `max-length`: 1 to 9999, no leading zero.
                    Some(n) => {
                        (1..=4).contains(&n.len()) && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
                    }
                    None => modifier.is_empty() || modifier == "*",
                }
        })
    }

    /// `varchar *( ["."] varchar )`, `varchar = ALPHA / DIGIT / "_" / pct-encoded`.
    fn varname_ok(name: &str) -> bool {
        let mut after_dot = true;
        let mut rest = name;
        while let Some(c) = rest.chars().next() {
            rest = match c {
                '.' if !after_dot => {
                    after_dot = true;
                    &rest[1..]
                }
                '%' => match strip_pct_encoded(rest) {
                    Some(rest) => rest,
                    None => return false,
                },
                c if c.is_ascii_alphanumeric() || c == '_' => &rest[1..],
                _ => return false,
            };
            after_dot &= c == '.';
        }
        !after_dot
    }
}

// ---- regex (ECMA-262) ----

mod ecma {
    use super::{CodePointSetData, GeneralCategoryGroup, IdContinue, IdStart, PropertyParser, Script};

    /// An ECMA-262 `Pattern[+UnicodeMode, ~UnicodeSetsMode, +NamedCaptureGroups]` with its early
    /// errors.
    pub(super) fn is_pattern(s: &str) -> bool {
        let mut p = Parser { chars: s.chars().collect(), ..Parser::default() };
        p.disjunction().is_some() && p.pos == p.chars.len() && p.early_errors_ok()
    }

    #[derive(Default)]
    struct Parser {
        chars: Vec<char>,
        pos: usize,
        /// Capturing groups so far.
        groups: u64,
        /// Each group name with the (disjunction, alternative) path leading to it.
        names: Vec<(String, Vec<(usize, usize)>)>,
        /// The largest `\N`.
        max_backref: u64,
        /// Every `\k<name>`.
        named_refs: Vec<String>,
        /// The (disjunction, alternative) path of the current position.
        path: Vec<(usize, usize)>,
        disjunctions: usize,
    }

    /// Groups nest at most this deep: the parser recurses per group, and a record's string must
    /// not be able to overflow the stack.
    const MAX_NESTING: usize = 256;

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn next(&mut self) -> Option<char> {
            let c = self.peek()?;
            self.pos += 1;
            Some(c)
        }

        fn eat(&mut self, c: char) -> bool {
            let found = self.peek() == Some(c);
            if found {
                self.pos += 1;
            }
            found
        }

        fn eat_str(&mut self, s: &str) -> bool {
            let n = s.chars().count();
            let found = self.chars.get(self.pos..self.pos + n).is_some_and(|w| w.iter().copied().eq(s.chars()));
            if found {
                self.pos += n;
            }
            found
        }

        fn disjunction(&mut self) -> Option<()> {
            if self.path.len() > MAX_NESTING {
                return None;
            }
            self.path.push((self.disjunctions, 0));
            self.disjunctions += 1;
            loop {
                while self.peek().is_some_and(|c| c != '|' && c != ')') {
                    self.term()?;
                }
                if !self.eat('|') {
                    break;
                }
                if let Some(top) = self.path.last_mut() {
                    top.1 += 1;
                }
            }
            self.path.pop();
            Some(())
        }

        /// An assertion (never quantifiable with the `u` flag) or an atom and its quantifier.
        fn term(&mut self) -> Option<()> {
            if self.eat('^') || self.eat('$') || self.eat_str("\\b") || self.eat_str("\\B") {
                return Some(());
            }
            if self.eat_str("(?=") || self.eat_str("(?!") || self.eat_str("(?<=") || self.eat_str("(?<!") {
                return self.group_rest();
            }
            self.atom()?;
            self.quantifier()
        }

        fn group_rest(&mut self) -> Option<()> {
            self.disjunction()?;
            self.eat(')').then_some(())
        }

        fn atom(&mut self) -> Option<()> {
            match self.next()? {
                '(' => self.group(),
                '[' => self.class(),
                '\\' => self.atom_escape(),
                // Syntax characters other than `.` are not pattern characters.
                '^' | '$' | '*' | '+' | '?' | ')' | ']' | '{' | '}' | '|' => None,
                _ => Some(()),
            }
        }

        fn group(&mut self) -> Option<()> {
            if !self.eat('?') {
                self.groups += 1;
            } else if self.eat('<') {
                let name = self.group_name()?;
                self.groups += 1;
                self.names.push((name, self.path.clone()));
            } else if !self.eat(':') {
                self.modifiers()?;
            }
            self.group_rest()
        }

        /// `(?ims-ims:` (ES2025 pattern modifiers): each flag at most once, not both sets empty.
        fn modifiers(&mut self) -> Option<()> {
            let mut seen = Vec::new();
            let added = self.flags(&mut seen)?;
            let removed = if self.eat('-') { Some(self.flags(&mut seen)?) } else { None };
            let any = added + removed.unwrap_or(0) > 0;
            (any && self.eat(':')).then_some(())
        }

        fn flags(&mut self, seen: &mut Vec<char>) -> Option<usize> {
            let mut n = 0;
            while let Some(c @ ('i' | 'm' | 's')) = self.peek() {
                if seen.contains(&c) {
                    return None;
                }
                seen.push(c);
                self.pos += 1;
                n += 1;
            }
            Some(n)
        }

        fn quantifier(&mut self) -> Option<()> {
            match self.peek() {
                Some('*' | '+' | '?') => self.pos += 1,
                Some('{') => {
                    self.pos += 1;
                    let min = self.digits()?;
                    let max = if self.eat(',') {
                        if self.peek() == Some('}') { None } else { Some(self.digits()?) }
                    } else {
                        Some(min.clone())
                    };
                    if !self.eat('}') || max.is_some_and(|max| greater(&min, &max)) {
                        return None;
                    }
                }
                _ => return Some(()),
            }
            self.eat('?');
            Some(())
        }

        /// `1*DecimalDigit`, without leading zeros (so numbers compare by length, then text).
        fn digits(&mut self) -> Option<String> {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let digits: String = self.chars.get(start..self.pos)?.iter().collect();
            if digits.is_empty() {
                return None;
            }
            Some(digits.trim_start_matches('0').to_owned())
        }

        /// After `\` outside a class.
        fn atom_escape(&mut self) -> Option<()> {
            match self.peek()? {
                '1'..='9' => {
                    let n = self.digits()?;
                    let n = n.parse::<u64>().unwrap_or(u64::MAX);
                    self.max_backref = self.max_backref.max(n);
                }
                'k' => {
                    self.pos += 1;
                    if !self.eat('<') {
                        return None;
                    }
                    let name = self.group_name()?;
                    self.named_refs.push(name);
                }
                _ => {
                    self.escape()?;
                }
            }
            Some(())
        }

        /// After `\`: a character class escape (`Some(None)`) or a character escape (its code
        /// point).
        fn escape(&mut self) -> Option<Option<u32>> {
            let c = self.next()?;
            let cp = match c {
                'd' | 'D' | 's' | 'S' | 'w' | 'W' => return Some(None),
                'p' | 'P' => return self.property().map(|()| None),
                'f' => 0x0C,
                'n' => 0x0A,
                'r' => 0x0D,
                't' => 0x09,
                'v' => 0x0B,
                'c' => match self.next()? {
                    l if l.is_ascii_alphabetic() => u32::from(l) % 32,
                    _ => return None,
                },
                '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => 0,
                'x' => self.hex(2)?,
                'u' => self.unicode_escape()?,
                // IdentityEscape with the `u` flag: only syntax characters and `/`.
                '^' | '$' | '\\' | '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '/' => {
                    u32::from(c)
                }
                _ => return None,
            };
            Some(Some(cp))
        }

        fn hex(&mut self, n: usize) -> Option<u32> {
            let mut v = 0;
            for _ in 0..n {
                v = v * 16 + self.next()?.to_digit(16)?;
            }
            Some(v)
        }

        /// After `\u`: `{CodePoint}`, or four hex digits (a surrogate pair `\uD83D\uDE00` is one
        /// code point).
        fn unicode_escape(&mut self) -> Option<u32> {
            if self.eat('{') {
                let mut v: u32 = 0;
                let mut any = false;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(16)) {
                    v = v * 16 + d;
                    if v > 0x10_FFFF {
                        return None;
                    }
                    any = true;
                    self.pos += 1;
                }
                return (any && self.eat('}')).then_some(v);
            }
            let v = self.hex(4)?;
            if (0xD800..0xDC00).contains(&v) {
                let save = self.pos;
                if self.eat_str("\\u")
                    && let Some(trail @ 0xDC00..=0xDFFF) = self.hex(4)
                {
                    return Some(0x10000 + ((v - 0xD800) << 10) + (trail - 0xDC00));
                }
                self.pos = save;
            }
            Some(v)
        }

        /// After `\p` or `\P`: `{name}` or `{name=value}`, as ECMA-262 lists them.
        fn property(&mut self) -> Option<()> {
            if !self.eat('{') {
                return None;
            }
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '=') {
                self.pos += 1;
            }
            let body: String = self.chars.get(start..self.pos)?.iter().collect();
            (self.eat('}') && property_ok(&body)).then_some(())
        }

        /// After `[`: `[^]?` then single characters, escapes and ranges up to `]`.
        fn class(&mut self) -> Option<()> {
            self.eat('^');
            loop {
                if self.eat(']') {
                    return Some(());
                }
                let from = self.class_atom()?;
                if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&c| c != ']') {
                    self.pos += 1;
                    let to = self.class_atom()?;
                    // With the `u` flag a range joins two characters, in order.
                    if !matches!((from, to), (Some(a), Some(b)) if a <= b) {
                        return None;
                    }
                }
            }
        }

        fn class_atom(&mut self) -> Option<Option<u32>> {
            match self.next()? {
                '\\' if self.eat('b') => Some(Some(0x08)),
                '\\' if self.eat('-') => Some(Some(u32::from('-'))),
                '\\' => self.escape(),
                c => Some(Some(u32::from(c))),
            }
        }

        /// After `<`: a `RegExpIdentifierName` (escapes allowed) and `>`.
        fn group_name(&mut self) -> Option<String> {
            let mut name = String::new();
            loop {
                let c = match self.next()? {
                    '>' => break,
                    '\\' if self.eat('u') => char::from_u32(self.unicode_escape()?)?,
                    '\\' => return None,
                    c => c,
                };
                let ok = if name.is_empty() {
                    c == '$' || c == '_' || CodePointSetData::new::<IdStart>().contains(c)
                } else {
                    matches!(c, '$' | '\u{200C}' | '\u{200D}') || CodePointSetData::new::<IdContinue>().contains(c)
                };
                if !ok {
                    return None;
                }
                name.push(c);
            }
            (!name.is_empty()).then_some(name)
        }

        /// Back references name existing groups; a name repeats only in another alternative.
        fn early_errors_ok(&self) -> bool {
            let refs_ok = self.max_backref <= self.groups
                && self.named_refs.iter().all(|r| self.names.iter().any(|(n, _)| n == r));
            let names_ok = self.names.iter().enumerate().all(|(i, (name, path))| {
                self.names[..i].iter().filter(|(other, _)| other == name).all(|(_, other)| {
                    // The first point where the paths differ must be two alternatives of one
                    // disjunction.
                    path.iter().zip(other).find(|(a, b)| a != b).is_some_and(|(a, b)| a.0 == b.0)
                })
            });
            refs_ok && names_ok
        }
    }

    /// Whether `a > b` for digit strings without leading zeros.
    fn greater(a: &str, b: &str) -> bool {
        (a.len(), a) > (b.len(), b)
    }

    /// ECMA-262 22.2.2.9: `General_Category`/`gc` and `Script`/`sc`/`Script_Extensions`/`scx` with
    /// a value alias, or alone a `General_Category` value or one of the listed binary properties.
    fn property_ok(body: &str) -> bool {
        let gc = |v: &str| PropertyParser::<GeneralCategoryGroup>::new().get_strict(v).is_some();
        match body.split_once('=') {
            Some(("General_Category" | "gc", value)) => gc(value),
            Some(("Script" | "sc" | "Script_Extensions" | "scx", value)) => {
                PropertyParser::<Script>::new().get_strict(value).is_some()
            }
            Some(_) => false,
            None => BINARY_PROPERTIES.split_ascii_whitespace().any(|p| p == body) || gc(body),
        }
    }

    /// ECMA-262 table "Binary Unicode property aliases" (names and short names), space-separated.
    const BINARY_PROPERTIES: &str = "ASCII ASCII_Hex_Digit AHex Alphabetic Alpha Any Assigned Bidi_Control Bidi_C \
        Bidi_Mirrored Bidi_M Case_Ignorable CI Cased Changes_When_Casefolded CWCF \
        Changes_When_Casemapped CWCM Changes_When_Lowercased CWL Changes_When_NFKC_Casefolded \
        CWKCF Changes_When_Titlecased CWT Changes_When_Uppercased CWU Dash \
        Default_Ignorable_Code_Point DI Deprecated Dep Diacritic Dia Emoji Emoji_Component EComp \
        Emoji_Modifier EMod Emoji_Modifier_Base EBase Emoji_Presentation EPres \
        Extended_Pictographic ExtPict Extender Ext Grapheme_Base Gr_Base Grapheme_Extend Gr_Ext \
        Hex_Digit Hex IDS_Binary_Operator IDSB IDS_Trinary_Operator IDST ID_Continue IDC \
        ID_Start IDS Ideographic Ideo Join_Control Join_C Logical_Order_Exception LOE Lowercase \
        Lower Math Noncharacter_Code_Point NChar Pattern_Syntax Pat_Syn Pattern_White_Space \
        Pat_WS Quotation_Mark QMark Radical Regional_Indicator RI Sentence_Terminal STerm \
        Soft_Dotted SD Terminal_Punctuation Term Unified_Ideograph UIdeo Uppercase Upper \
        Variation_Selector VS White_Space space XID_Continue XIDC XID_Start XIDS";
}

#[cfg(test)]
mod tests {
    // Tests fail by panicking.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn date_time_to_micros() {
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_time("2024-03-10T23:59:59.999+02:00"), Some(1_710_107_999_999_000));
        assert_eq!(parse_date_time("1970-01-01t00:00:01.1234567z"), Some(1_123_456));
        assert_eq!(parse_date_time("1998-12-31T15:59:60.123-08:00"), Some(915_148_799_999_999));
        assert_eq!(parse_date_time("1998-12-31T22:59:60Z"), None);
        assert_eq!(parse_date_time("2021-02-29T00:00:00Z"), None);
        assert_eq!(parse_date_time("2020-02-29T00:00:00Z"), Some(1_582_934_400_000_000));
        assert_eq!(parse_date_time("2020-01-01 00:00:00Z"), None);
        assert_eq!(parse_date_time("2020-01-01T00:00:00"), None);
        assert_eq!(parse_date_time("2020-01-01T00:00:00+24:00"), None);
        assert_eq!(parse_date_time("2020-01-01T"), None);
    }

    #[test]
    fn dates_uuids_emails() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2024-13-01"), None);
        assert!(is_uuid("2eb8aa08-AA98-11ea-b4aa-73b441d16380"));
        assert!(!is_uuid("2eb8aa08-aa98-11ea-b4aa-73b441d1638"));
        assert!(is_email("\"joe@bloggs\"@example.com"));
        assert!(is_email("joe.bloggs@[IPv6:::1]"));
        assert!(!is_email("joe.bloggs@[127.0.0.300]"));
        assert!(!is_email("te..st@example.com"));
        assert!(!is_email("joe.bloggs@invalid=domain.com"));
    }

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("unknown"), None);
        assert_eq!(Format::from_name("Date-Time"), None);
    }

    /// A few cases per format beyond the suite's, each `(format, text, valid)`.
    #[test]
    fn by_hand() {
        use Format::*;
        let cases: &[(Format, &str, bool)] = &[
            (DateTime, "2024-02-29T12:00:00.5+05:30", true),
            (DateTime, "2023-02-29T12:00:00Z", false),
            (DateTime, "2024-01-01T12:00:00.Z", false),
            (Date, "0001-01-01", true),
            (Date, "2024-04-31", false),
            (Date, "2024-1-01", false),
            (Time, "23:59:60.5-00:00", true),
            (Time, "12:00:00.Z", false),
            (Time, "12:00Z", false),
            (Duration, "P1Y2M3DT4H5M6S", true),
            (Duration, "p1w", true),
            (Duration, "PT1H1H", false),
            (Duration, "P1DT", false),
            (Email, "a.b+c@sub.example.org", true),
            (Email, "\"\\\"quoted\\\"\"@example.org", true),
            (Email, "joe@[IPv6:2001:db8::192.0.2.1]", true),
            (Email, "joe@[127.000.0.1]", true),
            (Email, "joe@[tag:whatever]", false),
            (Email, "müller@example.org", false),
            (Email, "joe@xn--X.org", false),
            (Email, "\"tab\there\"@example.org", false),
            (IdnEmail, "müller@bücher.de", true),
            (IdnEmail, "\"müller\"@example.org", true),
            (IdnEmail, "joe@-bücher.de", false),
            (Hostname, "EXAMPLE.com", true),
            (Hostname, "xn--bcher-kva.de", true),
            (Hostname, "XN--BCHER-KVA.de", true),
            (Hostname, "bücher.de", false),
            (Hostname, "xn--bcher-kva-.de", false),
            (IdnHostname, "bücher.de", true),
            (IdnHostname, "BÜCHER.de", true),
            (IdnHostname, "ab--cd.example", true),
            (IdnHostname, "a\u{2665}b.example", false),
            (IdnHostname, "a\u{1100}.kr", false),
            (IdnHostname, "a_b.example", false),
            (Ipv4, "1.2.3.4", true),
            (Ipv4, "01.2.3.4", false),
            (Ipv4, "1.2.3", false),
            (Ipv6, "2001:db8:0:0:0:0:2:1", true),
            (Ipv6, "1:2:3:4:5:6:7::", true),
            (Ipv6, "::1.2.3.4", true),
            (Ipv6, "1:2:3:4:5:6:7:8::", false),
            (Ipv6, "1.2.3.4::", false),
            (Uri, "http://user:pass@example.com:8080/a/b?c=d#e", true),
            (Uri, "urn:isbn:0451450523", true),
            (Uri, "http://[v7.abc:def]/", true),
            (Uri, "http://[v7.]/", false),
            (Uri, "http://example.com/ä", false),
            (Uri, "http://exa mple.com/", false),
            (UriReference, "../a/b?c#d", true),
            (UriReference, "a:b:c", true),
            (UriReference, "%zz", false),
            (Iri, "http://例子.测试/路径?查询=\u{E000}#片段", true),
            (Iri, "http://例子.测试/\u{E000}", false),
            (Iri, "http://example.com/\u{FFFE}", false),
            (IriReference, "路径/子路径", true),
            (IriReference, "路径 子路径", false),
            (Uuid, "00000000-0000-0000-0000-000000000000", true),
            (Uuid, "{2eb8aa08-aa98-11ea-b4aa-73b441d16380}", false),
            (JsonPointer, "/a~1b/~0", true),
            (JsonPointer, "/a~b", false),
            (RelativeJsonPointer, "0+1/a", true),
            (RelativeJsonPointer, "2-1#", true),
            (RelativeJsonPointer, "0+/a", false),
            (RelativeJsonPointer, "0+01#", false),
            (Regex, "^[a-z]{2,3}(?:-[A-Z]{2})?$", true),
            (Regex, "\\p{Script=Greek}+\\P{L}\\p{Lu}\\p{Any}", true),
            (Regex, "(?<a>x)|(?<a>y)", true),
            (Regex, "(?i:a)(?-s:b)(?m-i:c)", true),
            (Regex, "[\\uD83D\\uDE00-\\uD83D\\uDE4F]", true),
            (Regex, "\\u{1F600}\\x41\\0", true),
            (Regex, "(a)\\1", true),
            (Regex, "(?<$é>x)\\k<$é>", true),
            (Regex, "(a)\\2", false),
            (Regex, "\\k<a>", false),
            (Regex, "(?<a>x)(?<a>y)", false),
            (Regex, "\\p{Greek}", false),
            (Regex, "\\p{Script=Klingon}", false),
            (Regex, "a{2,1}", false),
            (Regex, "[z-a]", false),
            (Regex, "[\\d-z]", false),
            (Regex, "a**", false),
            (Regex, "(?=a)*", false),
            (Regex, "a{", false),
            (Regex, "}", false),
            (Regex, "\\01", false),
            (Regex, "(?i-i:a)", false),
            (Regex, "(?-:a)", false),
            (Regex, "\\u{110000}", false),
            (Regex, "\\p{digit}\\p{LC}\\p{Combining_Mark}\\p{sc=Zyyy}\\p{scx=Qaai}\\p{RI}", true),
            (Regex, "\\p{Script=Greek=Latin}", false),
            (UriTemplate, "/search{?q,lang}{&page}", true),
            (UriTemplate, "{/list*}{;keys:3}", true),
            (UriTemplate, "{=reserved}", true),
            (UriTemplate, "{var:}", false),
            (UriTemplate, "{va r}", false),
            (UriTemplate, "{{var}}", false),
            (UriTemplate, "%4", false),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(f, s, valid)| f.is_valid(s) != *valid)
            .map(|(f, s, valid)| format!("{}: {s:?} should be {}", f.name(), if *valid { "valid" } else { "invalid" }))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // Nesting is bounded rather than overflowing the stack.
        assert!(Format::Regex.is_valid(&format!("{}a{}", "(".repeat(200), ")".repeat(200))));
        assert!(!Format::Regex.is_valid(&format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000))));
    }

    /// A suite case eventlake's verdict may differ from, with why.
    struct Exception {
        file: &'static str,
        data: &'static str,
        reason: &'static str,
    }

    /// Kept empty unless a case cannot be met; each entry must still differ (no stale entries).
    const EXCEPTIONS: &[Exception] = &[];

    /// Every `optional/format/*.json` of the five drafts: each case of a `{"format": NAME}` group
    /// with an asserted NAME gets the suite's verdict (a non-string is always valid).
    #[test]
    fn json_schema_test_suite() {
        use std::collections::BTreeMap;
        use std::path::Path;

        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json-schema-test-suite");
        // Per format: cases passed, cases, of which string cases.
        let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        let mut mismatches = Vec::new();
        let mut excepted = Vec::new();
        let mut files = 0;
        for draft in ["draft4", "draft6", "draft7", "draft2019-09", "draft2020-12"] {
            let dir = root.join(draft).join("optional/format");
            let mut paths: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            paths.sort();
            for path in paths {
                files += 1;
                let file = format!("{draft}/optional/format/{}", path.file_name().unwrap().to_string_lossy());
                let groups: Vec<serde_json::Value> =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                for group in &groups {
                    let Some(schema) = group["schema"].as_object() else { continue };
                    if schema.keys().any(|k| k != "format" && k != "$schema") {
                        continue;
                    }
                    let Some(format) = schema["format"].as_str().and_then(Format::from_name) else { continue };
                    for case in group["tests"].as_array().unwrap() {
                        let expected = case["valid"].as_bool().unwrap();
                        let count = counts.entry(format.name()).or_default();
                        count.1 += 1;
                        let (actual, data) = match case["data"].as_str() {
                            Some(s) => {
                                count.2 += 1;
                                (format.is_valid(s), s.to_owned())
                            }
                            None => (true, case["data"].to_string()),
                        };
                        let exception = EXCEPTIONS.iter().find(|x| x.file == file && x.data == data);
                        match exception {
                            Some(x) if actual != expected => excepted.push(format!("{file} {data:?}: {}", x.reason)),
                            Some(_) => mismatches.push(format!("{file} {data:?}: listed as an exception but passes")),
                            None if actual == expected => count.0 += 1,
                            None => mismatches.push(format!(
                                "{file} {:?} {data:?}: expected {expected}, got {actual}",
                                case["description"].as_str().unwrap_or_default()
                            )),
                        }
                    }
                }
            }
        }
        println!("{files} files");
        for (name, (passed, total, strings)) in &counts {
            println!("{name:>22}: {passed}/{total} ({strings} strings)");
        }
        for line in &excepted {
            println!("exception: {line}");
        }
        assert_eq!(counts.len(), Format::ALL.len(), "every format is exercised");
        assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    }
}
