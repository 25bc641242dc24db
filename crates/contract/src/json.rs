//! A strict JSON parser that writes one record into a flat, reusable tape.
//!
//! Why not `serde_json::Value`: the contract needs what a generic DOM throws away — duplicate keys
//! (invalid here), the exact byte span of every value (free-form objects are stored as their original
//! text), and whether a number literal is integral. A tape is also allocation-free once warm: the hourly
//! job parses millions of records into the same buffers.
//!
//! ```
//! use eventlake_contract::json::Tape;
//! let mut tape = Tape::default();
//! let doc = tape.parse(br#"{"a": [1, 2.0, "x"]}"#).unwrap();
//! assert_eq!(doc.get("a").unwrap().elements().count(), 3);
//! ```

use std::fmt;

/// Deepest nesting accepted; deeper records are rejected instead of risking the stack.
pub const MAX_DEPTH: usize = 128;

/// Why a record is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the record where the problem was found.
    pub offset: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// Input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte(u8),
    /// Bytes after the end of the value.
    TrailingCharacters,
    /// An escape sequence that JSON does not allow, or a lone surrogate.
    InvalidEscape,
    /// A raw control character inside a string.
    ControlCharacter,
    /// A number literal that is not JSON, or too large for a double.
    InvalidNumber,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A record over 4 GiB.
    TooLarge,
    /// The same key twice in one object; `pointer` locates the object.
    DuplicateKey { pointer: String, key: String },
    /// Nothing but whitespace.
    Empty,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8 at byte {}", self.offset),
            ParseErrorKind::UnexpectedEnd => {
                write!(f, "unexpected end of input at byte {}", self.offset)
            }
            ParseErrorKind::UnexpectedByte(b) => {
                write!(f, "unexpected {} at byte {}", describe_byte(*b), self.offset)
            }
            ParseErrorKind::TrailingCharacters => {
                write!(f, "trailing characters after the value at byte {}", self.offset)
            }
            ParseErrorKind::InvalidEscape => write!(f, "invalid escape at byte {}", self.offset),
            ParseErrorKind::ControlCharacter => {
                write!(f, "control character in string at byte {}", self.offset)
            }
            ParseErrorKind::InvalidNumber => write!(f, "invalid number at byte {}", self.offset),
            ParseErrorKind::TooDeep => {
                write!(f, "nested deeper than {MAX_DEPTH} levels at byte {}", self.offset)
            }
            ParseErrorKind::TooLarge => write!(f, "record larger than 4 GiB"),
            ParseErrorKind::DuplicateKey { pointer, key } => {
                write!(f, "{pointer}: duplicate key {key:?}")
            }
            ParseErrorKind::Empty => write!(f, "empty record"),
        }
    }
}

impl std::error::Error for ParseError {}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() { format!("'{}'", b as char) } else { format!("byte 0x{b:02x}") }
}

/// What a tape node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    /// An integral number that fits `i64` (`3`, `3.0`, `3e2`).
    Int,
    /// A number with a fractional part.
    Float,
    /// An integral number outside `i64`.
    BigInt,
    String,
    Array,
    Object,
}

impl Kind {
    /// The JSON type name, as error messages say it.
    pub fn json_type(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Int | Kind::BigInt => "integer",
            Kind::Float => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// String: text lives in the tape's decode buffer, not the input.
    escaped: bool,
    /// String: text range. Array/Object: `a` = number of children (members for objects).
    a: u32,
    b: u32,
    /// Array/Object: index of the first node after the subtree.
    next: u32,
    /// Bool as 0/1, Int as i64 bits, Float/BigInt as f64 bits.
    bits: u64,
    span_start: u32,
    span_end: u32,
}

/// Reusable parse buffers. [`Tape::parse`] returns a [`Value`] borrowing the tape and the input.
#[derive(Debug, Default)]
pub struct Tape {
    nodes: Vec<Node>,
    decoded: String,
    /// Scratch for duplicate-key detection in large objects.
    key_scratch: Vec<(u32, u32, bool)>,
}

impl Tape {
    /// Parses one JSON text (surrounding whitespace allowed).
    pub fn parse<'a>(&'a mut self, input: &'a [u8]) -> Result<Value<'a>, ParseError> {
        let text = checked_utf8(input)?;
        let end = self.parse_prefix(input)?;
        let rest = &input[end..];
        if let Some(i) = rest.iter().position(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t')) {
            return Err(ParseError { offset: end + i, kind: ParseErrorKind::TrailingCharacters });
        }
        Ok(self.root(text))
    }

    /// Parses the first JSON value in `input` (leading whitespace allowed) and returns the offset
    /// just past it; whatever follows is not looked at. UTF-8 is not checked here: the caller
    /// checks the record's bytes before calling [`Tape::root`].
    pub fn parse_prefix(&mut self, input: &[u8]) -> Result<usize, ParseError> {
        self.nodes.clear();
        self.decoded.clear();
        if input.len() > u32::MAX as usize {
            return Err(ParseError { offset: 0, kind: ParseErrorKind::TooLarge });
        }
        let mut p = Parser { bytes: input, pos: 0, tape: self, path: Vec::new() };
        p.skip_ws();
        if p.pos == p.bytes.len() {
            return Err(ParseError { offset: p.pos, kind: ParseErrorKind::Empty });
        }
        p.value(0)?;
        Ok(p.pos)
    }

    /// The root value of the last successful parse; `text` must be the input it parsed (at least
    /// up to the offset [`Tape::parse_prefix`] returned).
    pub fn root<'a>(&'a self, text: &'a str) -> Value<'a> {
        Value { tape: self, input: text, idx: 0 }
    }
}

struct Parser<'a, 't> {
    bytes: &'a [u8],
    pos: usize,
    tape: &'t mut Tape,
    /// Where the parser is: member key node index or array index, per open container.
    path: Vec<PathStep>,
}

#[derive(Clone, Copy)]
enum PathStep {
    Key(usize),
    Index(u32),
}

impl Parser<'_, '_> {
    fn err(&self, kind: ParseErrorKind) -> ParseError {
        ParseError { offset: self.pos, kind }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Result<u8, ParseError> {
        self.bytes.get(self.pos).copied().ok_or(ParseError { offset: self.pos, kind: ParseErrorKind::UnexpectedEnd })
    }

    fn push(&mut self, kind: Kind, start: usize) -> usize {
        let idx = self.tape.nodes.len();
        self.tape.nodes.push(Node {
            kind,
            escaped: false,
            a: 0,
            b: 0,
            next: 0,
            bits: 0,
            span_start: start as u32,
            span_end: start as u32,
        });
        idx
    }

    fn value(&mut self, depth: usize) -> Result<(), ParseError> {
        let start = self.pos;
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let idx = self.push(Kind::String, start);
                self.string(idx)
            }
            b't' => self.literal(b"true", Kind::Bool, 1),
            b'f' => self.literal(b"false", Kind::Bool, 0),
            b'n' => self.literal(b"null", Kind::Null, 0),
            b'-' | b'0'..=b'9' => self.number(),
            b => Err(self.err(ParseErrorKind::UnexpectedByte(b))),
        }
    }

    fn literal(&mut self, word: &[u8], kind: Kind, bits: u64) -> Result<(), ParseError> {
        let start = self.pos;
        let end = start + word.len();
        if self.bytes.len() < end {
            return Err(ParseError { offset: self.bytes.len(), kind: ParseErrorKind::UnexpectedEnd });
        }
        if &self.bytes[start..end] != word {
            let bad = (start..end).find(|&i| self.bytes[i] != word[i - start]).unwrap_or(start);
            return Err(ParseError { offset: bad, kind: ParseErrorKind::UnexpectedByte(self.bytes[bad]) });
        }
        let idx = self.push(kind, start);
        self.pos = end;
        let n = &mut self.tape.nodes[idx];
        n.bits = bits;
        n.span_end = end as u32;
        n.next = idx as u32 + 1;
        Ok(())
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = start;
        let neg = b[i] == b'-';
        if neg {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                return Err(ParseError { offset: i, kind: ParseErrorKind::InvalidNumber });
            }
        }
        let int_end = i;
        let mut is_float = false;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let s = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == s {
                return Err(ParseError { offset: i, kind: ParseErrorKind::InvalidNumber });
            }
            is_float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let s = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == s {
                return Err(ParseError { offset: i, kind: ParseErrorKind::InvalidNumber });
            }
            is_float = true;
        }
        let idx = self.push(Kind::Int, start);
        self.pos = i;
        let (kind, bits) = if !is_float && int_end - int_start <= 18 {
            let mut v: i64 = 0;
            for &d in &b[int_start..int_end] {
                v = v * 10 + i64::from(d - b'0');
            }
            (Kind::Int, (if neg { -v } else { v }) as u64)
        } else {
            // The slice is ASCII digits and signs only.
            let text = std::str::from_utf8(&b[start..i]).unwrap_or("");
            if !is_float && let Ok(v) = text.parse::<i64>() {
                (Kind::Int, v as u64)
            } else {
                let f: f64 =
                    text.parse().map_err(|_| ParseError { offset: start, kind: ParseErrorKind::InvalidNumber })?;
                if !f.is_finite() {
                    return Err(ParseError { offset: start, kind: ParseErrorKind::InvalidNumber });
                }
                classify_float(f)
            }
        };
        let n = &mut self.tape.nodes[idx];
        n.kind = kind;
        n.bits = bits;
        n.span_end = i as u32;
        n.next = idx as u32 + 1;
        Ok(())
    }

    /// Parses the string at `self.pos` into node `idx`.
    fn string(&mut self, idx: usize) -> Result<(), ParseError> {
        let b = self.bytes;
        let start = self.pos;
        let mut i = start + 1;
        // Fast path: no escapes. Eight bytes at a time while none is special.
        loop {
            while let Some(word) = b.get(i..i + 8) {
                let Ok(word) = <[u8; 8]>::try_from(word) else { break };
                if has_string_special(u64::from_le_bytes(word)) {
                    break;
                }
                i += 8;
            }
            match b.get(i) {
                None => {
                    return Err(ParseError { offset: i, kind: ParseErrorKind::UnexpectedEnd });
                }
                Some(b'"') => {
                    let n = &mut self.tape.nodes[idx];
                    n.a = (start + 1) as u32;
                    n.b = i as u32;
                    n.span_end = (i + 1) as u32;
                    n.next = idx as u32 + 1;
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => break,
                Some(&c) if c < 0x20 => {
                    return Err(ParseError { offset: i, kind: ParseErrorKind::ControlCharacter });
                }
                Some(_) => i += 1,
            }
        }
        // Slow path: decode into the tape's buffer.
        let dec_start = self.tape.decoded.len();
        // Input is valid UTF-8 and `start+1..i` ends before an ASCII byte.
        self.tape.decoded.push_str(utf8(&b[start + 1..i]));
        loop {
            match b.get(i) {
                None => {
                    return Err(ParseError { offset: i, kind: ParseErrorKind::UnexpectedEnd });
                }
                Some(b'"') => break,
                Some(b'\\') => {
                    let esc = *b.get(i + 1).ok_or(ParseError { offset: i + 1, kind: ParseErrorKind::UnexpectedEnd })?;
                    i += 2;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = hex4(b, i)?;
                            i += 4;
                            if (0xD800..0xDC00).contains(&hi) {
                                if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                    return Err(ParseError { offset: i, kind: ParseErrorKind::InvalidEscape });
                                }
                                let lo = hex4(b, i + 2)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(ParseError { offset: i, kind: ParseErrorKind::InvalidEscape });
                                }
                                i += 6;
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp)
                                    .ok_or(ParseError { offset: i, kind: ParseErrorKind::InvalidEscape })?
                            } else {
                                char::from_u32(hi)
                                    .ok_or(ParseError { offset: i, kind: ParseErrorKind::InvalidEscape })?
                            }
                        }
                        _ => {
                            return Err(ParseError { offset: i - 1, kind: ParseErrorKind::InvalidEscape });
                        }
                    };
                    self.tape.decoded.push(c);
                }
                Some(&c) if c < 0x20 => {
                    return Err(ParseError { offset: i, kind: ParseErrorKind::ControlCharacter });
                }
                Some(_) => {
                    let s = i;
                    while let Some(&c) = b.get(i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        i += 1;
                    }
                    self.tape.decoded.push_str(utf8(&b[s..i]));
                }
            }
        }
        let n = &mut self.tape.nodes[idx];
        n.escaped = true;
        n.a = dec_start as u32;
        n.b = self.tape.decoded.len() as u32;
        n.span_end = (i + 1) as u32;
        n.next = idx as u32 + 1;
        self.pos = i + 1;
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(ParseErrorKind::TooDeep));
        }
        let idx = self.push(Kind::Array, self.pos);
        self.pos += 1;
        self.skip_ws();
        let mut count = 0u32;
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                self.path.push(PathStep::Index(count));
                self.value(depth + 1)?;
                self.path.pop();
                count += 1;
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    b => return Err(self.err(ParseErrorKind::UnexpectedByte(b))),
                }
            }
        }
        let next = self.tape.nodes.len() as u32;
        let n = &mut self.tape.nodes[idx];
        n.a = count;
        n.next = next;
        n.span_end = self.pos as u32;
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(ParseErrorKind::TooDeep));
        }
        let idx = self.push(Kind::Object, self.pos);
        self.pos += 1;
        self.skip_ws();
        let mut count = 0u32;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                match self.peek()? {
                    b'"' => {}
                    b => return Err(self.err(ParseErrorKind::UnexpectedByte(b))),
                }
                let key_idx = self.push(Kind::String, self.pos);
                self.string(key_idx)?;
                self.skip_ws();
                match self.peek()? {
                    b':' => self.pos += 1,
                    b => return Err(self.err(ParseErrorKind::UnexpectedByte(b))),
                }
                self.skip_ws();
                self.path.push(PathStep::Key(key_idx));
                self.value(depth + 1)?;
                self.path.pop();
                count += 1;
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    b => return Err(self.err(ParseErrorKind::UnexpectedByte(b))),
                }
            }
        }
        let next = self.tape.nodes.len() as u32;
        let n = &mut self.tape.nodes[idx];
        n.a = count;
        n.next = next;
        n.span_end = self.pos as u32;
        if count > 1 {
            self.check_duplicates(idx)?;
        }
        Ok(())
    }

    fn key_text(&self, idx: usize) -> &str {
        let n = &self.tape.nodes[idx];
        if n.escaped {
            &self.tape.decoded[n.a as usize..n.b as usize]
        } else {
            utf8(&self.bytes[n.a as usize..n.b as usize])
        }
    }

    fn check_duplicates(&mut self, obj: usize) -> Result<(), ParseError> {
        let nodes = &self.tape.nodes;
        let mut keys = std::mem::take(&mut self.tape.key_scratch);
        keys.clear();
        let mut i = obj + 1;
        let end = nodes[obj].next as usize;
        while i < end {
            let k = &nodes[i];
            keys.push((k.a, k.b, k.escaped));
            i = nodes[i + 1].next as usize;
        }
        // Keys compare as bytes: equal text is equal bytes, and the record's UTF-8 is checked once,
        // by the caller.
        let text = |&(a, b, esc): &(u32, u32, bool)| -> &[u8] {
            if esc {
                &self.tape.decoded.as_bytes()[a as usize..b as usize]
            } else {
                &self.bytes[a as usize..b as usize]
            }
        };
        let mut dup = None;
        if keys.len() <= 24 {
            // Cheap fingerprints (length, first and last byte) first; text only when they agree.
            let fp = |k: &(u32, u32, bool)| -> u64 {
                let t = text(k);
                ((t.len() as u64) << 16)
                    | (u64::from(t.first().copied().unwrap_or(0)) << 8)
                    | u64::from(t.last().copied().unwrap_or(0))
            };
            let mut prints = [0u64; 24];
            for (slot, k) in prints.iter_mut().zip(keys.iter()) {
                *slot = fp(k);
            }
            'outer: for x in 0..keys.len() {
                for y in x + 1..keys.len() {
                    if prints[x] == prints[y] && text(&keys[x]) == text(&keys[y]) {
                        dup = Some(String::from_utf8_lossy(text(&keys[y])).into_owned());
                        break 'outer;
                    }
                }
            }
        } else {
            let mut sorted: Vec<&[u8]> = keys.iter().map(text).collect();
            sorted.sort_unstable();
            dup = sorted.windows(2).find(|w| w[0] == w[1]).map(|w| String::from_utf8_lossy(w[0]).into_owned());
        }
        self.tape.key_scratch = keys;
        match dup {
            None => Ok(()),
            Some(key) => {
                let mut pointer = self.pointer_here();
                pointer.push('/');
                push_pointer_token(&mut pointer, &key);
                Err(ParseError {
                    offset: self.tape.nodes[obj].span_start as usize,
                    kind: ParseErrorKind::DuplicateKey { pointer, key },
                })
            }
        }
    }

    /// JSON pointer of the container being parsed (only used on the error path).
    fn pointer_here(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            out.push('/');
            match *step {
                PathStep::Key(idx) => push_pointer_token(&mut out, self.key_text(idx)),
                PathStep::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is `"`, `\\` or a control character (< 0x20).
#[inline]
fn has_string_special(w: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    has_zero(w ^ (ONES * u64::from(b'"')))
        || has_zero(w ^ (ONES * u64::from(b'\\')))
        || (w.wrapping_sub(ONES * 0x20) & !w & HIGH) != 0
}

/// Classifies a finite double as `Int`, `BigInt` or `Float`, returning the node bits.
fn classify_float(f: f64) -> (Kind, u64) {
    if f.fract() == 0.0 {
        // -2^63 is exact in f64; 2^63 is the first value out of range.
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
            (Kind::Int, (f as i64) as u64)
        } else {
            (Kind::BigInt, f.to_bits())
        }
    } else {
        (Kind::Float, f.to_bits())
    }
}

fn hex4(b: &[u8], i: usize) -> Result<u32, ParseError> {
    let digits = b.get(i..i + 4).ok_or(ParseError { offset: i, kind: ParseErrorKind::UnexpectedEnd })?;
    let mut v = 0u32;
    for (k, &d) in digits.iter().enumerate() {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => {
                return Err(ParseError { offset: i + k, kind: ParseErrorKind::InvalidEscape });
            }
        };
        v = v * 16 + u32::from(x);
    }
    Ok(v)
}

/// `input` as text, or where its UTF-8 goes wrong. Every record is checked once, whole, with
/// SIMD; std's slower check only runs to locate an error.
pub fn checked_utf8(input: &[u8]) -> Result<&str, ParseError> {
    simdutf8::basic::from_utf8(input).map_err(|_| {
        let offset = std::str::from_utf8(input).err().map_or(0, |e| e.valid_up_to());
        ParseError { offset, kind: ParseErrorKind::InvalidUtf8 }
    })
}

/// The parser only slices validated UTF-8 at ASCII boundaries.
fn utf8(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// Appends `token` escaped as a JSON pointer reference token (`~` → `~0`, `/` → `~1`).
pub fn push_pointer_token(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// A value inside a parsed tape.
#[derive(Clone, Copy)]
pub struct Value<'a> {
    tape: &'a Tape,
    input: &'a str,
    idx: u32,
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl<'a> Value<'a> {
    #[inline]
    fn node(&self) -> &'a Node {
        &self.tape.nodes[self.idx as usize]
    }

    #[inline]
    fn at(&self, idx: u32) -> Value<'a> {
        Value { tape: self.tape, input: self.input, idx }
    }

    /// What this value is.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.node().kind
    }

    /// The exact input text of this value.
    pub fn raw(&self) -> &'a str {
        let n = self.node();
        self.input.get(n.span_start as usize..n.span_end as usize).unwrap_or_default()
    }

    /// Byte range of this value in the input.
    pub fn span(&self) -> std::ops::Range<usize> {
        let n = self.node();
        n.span_start as usize..n.span_end as usize
    }

    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    pub fn as_bool(&self) -> Option<bool> {
        (self.kind() == Kind::Bool).then(|| self.node().bits != 0)
    }

    /// The string's decoded text.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        let n = self.node();
        if n.kind != Kind::String {
            return None;
        }
        Some(if n.escaped {
            self.tape.decoded.get(n.a as usize..n.b as usize).unwrap_or_default()
        } else {
            self.input.get(n.a as usize..n.b as usize).unwrap_or_default()
        })
    }

    /// An integral number within `i64`.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        (self.kind() == Kind::Int).then(|| self.node().bits as i64)
    }

    /// Any number as a double.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        let n = self.node();
        match n.kind {
            Kind::Int => Some(n.bits as i64 as f64),
            Kind::Float | Kind::BigInt => Some(f64::from_bits(n.bits)),
            _ => None,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self.kind(), Kind::Int | Kind::Float | Kind::BigInt)
    }

    /// Number of elements (array) or members (object); 0 otherwise.
    pub fn len(&self) -> usize {
        match self.kind() {
            Kind::Array | Kind::Object => self.node().a as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of an array (nothing for other kinds).
    pub fn elements(&self) -> Elements<'a> {
        let n = self.node();
        let (cur, end) = if n.kind == Kind::Array { (self.idx + 1, n.next) } else { (0, 0) };
        Elements { base: *self, cur, end }
    }

    /// Members of an object, in input order (nothing for other kinds).
    /// The value written canonically: no whitespace, object members sorted by name, scalars as
    /// written. Two deliveries of one record give the same bytes whatever their spacing or key order.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match self.kind() {
            Kind::Object => {
                let mut members: Vec<(&str, Value<'a>)> = self.members().collect();
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (key, value)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(key, out);
                    out.push(b':');
                    value.write_canonical(out);
                }
                out.push(b'}');
            }
            Kind::Array => {
                out.push(b'[');
                for (i, e) in self.elements().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    e.write_canonical(out);
                }
                out.push(b']');
            }
            Kind::String => write_json_string(self.as_str().unwrap_or_default(), out),
            _ => out.extend_from_slice(self.raw().as_bytes()),
        }
    }

    pub fn members(&self) -> Members<'a> {
        let n = self.node();
        let (cur, end) = if n.kind == Kind::Object { (self.idx + 1, n.next) } else { (0, 0) };
        Members { base: *self, cur, end }
    }

    /// The member named `key` of an object.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Converts into a `serde_json::Value` (for reports and tests; not on the hot path).
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.kind() {
            Kind::Null => J::Null,
            Kind::Bool => J::Bool(self.node().bits != 0),
            Kind::Int => J::from(self.node().bits as i64),
            Kind::Float | Kind::BigInt => {
                serde_json::Number::from_f64(f64::from_bits(self.node().bits)).map_or(J::Null, J::Number)
            }
            Kind::String => J::String(self.as_str().unwrap_or_default().to_owned()),
            Kind::Array => J::Array(self.elements().map(|e| e.to_serde()).collect()),
            Kind::Object => J::Object(self.members().map(|(k, v)| (k.to_owned(), v.to_serde())).collect()),
        }
    }
}

/// Iterator over array elements.
pub struct Elements<'a> {
    base: Value<'a>,
    cur: u32,
    end: u32,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;
    #[inline]
    fn next(&mut self) -> Option<Value<'a>> {
        if self.cur >= self.end {
            return None;
        }
        let v = self.base.at(self.cur);
        self.cur = v.node().next;
        Some(v)
    }
}

/// Iterator over object members.
pub struct Members<'a> {
    base: Value<'a>,
    cur: u32,
    end: u32,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Value<'a>);
    #[inline]
    fn next(&mut self) -> Option<(&'a str, Value<'a>)> {
        if self.cur >= self.end {
            return None;
        }
        let k = self.base.at(self.cur);
        let v = self.base.at(self.cur + 1);
        self.cur = v.node().next;
        Some((k.as_str().unwrap_or_default(), v))
    }
}

/// `s` as a JSON string with the minimal escapes (so equal strings always write equal bytes). Runs
/// that need no escape are copied whole.
pub(crate) fn write_json_string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..0x20 => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_write_with_the_minimal_escapes() {
        let mut out = Vec::new();
        write_json_string("a\"b\\c\nd\u{1}\té😊\u{7f}", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001\\té😊\u{7f}\"");
    }

    fn kind_of(s: &str) -> Result<Kind, ParseErrorKind> {
        let mut t = Tape::default();
        t.parse(s.as_bytes()).map(|v| v.kind()).map_err(|e| e.kind)
    }

    #[test]
    fn numbers_follow_json_schema_integer_rules() {
        assert_eq!(kind_of("1"), Ok(Kind::Int));
        assert_eq!(kind_of("1.0"), Ok(Kind::Int));
        assert_eq!(kind_of("1e2"), Ok(Kind::Int));
        assert_eq!(kind_of("1.5"), Ok(Kind::Float));
        assert_eq!(kind_of("-9223372036854775808"), Ok(Kind::Int));
        assert_eq!(kind_of("9223372036854775808"), Ok(Kind::BigInt));
        assert_eq!(kind_of("1e400"), Err(ParseErrorKind::InvalidNumber));
        assert_eq!(kind_of("01"), Err(ParseErrorKind::TrailingCharacters));
        assert_eq!(kind_of("1."), Err(ParseErrorKind::InvalidNumber));
        assert_eq!(kind_of("-"), Err(ParseErrorKind::InvalidNumber));
    }

    #[test]
    fn strings_decode_escapes_and_reject_bad_ones() {
        let mut t = Tape::default();
        let v = t.parse(br#""a\n\u00e9\ud83d\ude00/\"""#).unwrap();
        assert_eq!(v.as_str(), Some("a\né😀/\""));
        assert_eq!(kind_of(r#""\ud800""#), Err(ParseErrorKind::InvalidEscape));
        assert_eq!(kind_of(r#""\x""#), Err(ParseErrorKind::InvalidEscape));
        assert_eq!(kind_of("\"a\tb\""), Err(ParseErrorKind::ControlCharacter));
        assert_eq!(kind_of("\"abc"), Err(ParseErrorKind::UnexpectedEnd));
    }

    #[test]
    fn objects_keep_order_spans_and_reject_duplicates() {
        let mut t = Tape::default();
        let input = br#" {"b": {"x": [1, {"y": null}]}, "a\u0041": true} "#;
        let v = t.parse(input).unwrap();
        let keys: Vec<_> = v.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "aA"]);
        assert_eq!(v.get("b").unwrap().raw(), r#"{"x": [1, {"y": null}]}"#);
        let mut t = Tape::default();
        let e = t.parse(br#"{"o": [0, {"k": 1, "k": 2}]}"#).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::DuplicateKey { pointer: "/o/1/k".into(), key: "k".into() });
        let many: String = (0..40).map(|i| format!("\"k{}\":1,", i % 39)).collect();
        let mut t = Tape::default();
        assert!(t.parse(format!("{{{}\"z\":0}}", many).as_bytes()).is_err());
    }

    #[test]
    fn rejects_garbage_and_depth_bombs() {
        assert_eq!(kind_of(""), Err(ParseErrorKind::Empty));
        assert_eq!(kind_of("{\"a\":1}{"), Err(ParseErrorKind::TrailingCharacters));
        assert_eq!(kind_of("[1,]"), Err(ParseErrorKind::UnexpectedByte(b']')));
        assert_eq!(kind_of("tru"), Err(ParseErrorKind::UnexpectedEnd));
        assert_eq!(kind_of(&"[".repeat(200)), Err(ParseErrorKind::TooDeep));
        let mut t = Tape::default();
        assert_eq!(t.parse(b"\"\xff\"").unwrap_err().kind, ParseErrorKind::InvalidUtf8);
    }
}
