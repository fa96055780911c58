//! A minimal, strict XML reader for the documents this crate emits (conference-info, IMDN):
//! elements, double- or single-quoted attributes, text with the five predefined entities and
//! numeric character references, comments and the XML declaration. No DTDs, no CDATA.

use super::WireError;

/// An element with its attributes, children and concatenated text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// True for a character XML 1.0 allows in a document (XML 1.0 §2.2 `Char`: #x9 | #xA | #xD |
/// [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]). A Rust `char` is never a surrogate,
/// so what is left out is the C0 controls but tab, LF and CR, and U+FFFE and U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..) && c != '\u{FFFE}'
}

/// Escapes text or an attribute value. A character XML 1.0 does not allow ([`is_xml_char`]) has
/// no escape either (`&#xFFFE;` is not well-formed), so it is written as a space, as the SVG
/// export does.
pub fn escape_into(out: &mut String, s: &str) {
    // Printable ASCII without a character to escape (the usual text) is written as it is.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !is_xml_char(c) => out.push(' '),
            c => out.push(c),
        }
    }
}

fn unescape(s: &str) -> Result<String, WireError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| WireError::Xml("unterminated entity".into()))?;
        let ent = &after[..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            // A reference must name a character XML 1.0 allows (XML 1.0 §4.1, "Well-formedness
            // constraint: Legal Character"): &#0; or &#xFFFE; is an error.
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(|| WireError::Xml(format!("bad character reference &{};", crate::shown::cut(ent))))?,
            _ if ent.starts_with('#') => ent[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(|| WireError::Xml(format!("bad character reference &{};", crate::shown::cut(ent))))?,
            _ => return Err(WireError::Xml(format!("unknown entity &{};", crate::shown::cut(ent)))),
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn err<T>(&self, m: &str) -> Result<T, WireError> {
        Err(WireError::Xml(format!("{m} at byte {}", self.pos)))
    }
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }
    fn skip_misc(&mut self) -> Result<(), WireError> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<?") {
                let end = self.rest().find("?>").ok_or_else(|| WireError::Xml("unterminated declaration".into()))?;
                self.pos += end + 2;
            } else if self.rest().starts_with("<!--") {
                let end = self.rest().find("-->").ok_or_else(|| WireError::Xml("unterminated comment".into()))?;
                self.pos += end + 3;
            } else {
                return Ok(());
            }
        }
    }
    fn name(&mut self) -> Result<String, WireError> {
        let r = self.rest();
        let n = r.find(|c: char| !(c.is_alphanumeric() || "-_.:".contains(c))).unwrap_or(r.len());
        if n == 0 {
            return self.err("expected a name");
        }
        self.pos += n;
        Ok(r[..n].to_string())
    }
    fn element(&mut self) -> Result<Element, WireError> {
        self.depth += 1;
        if self.depth > 32 {
            return self.err("elements nested too deeply");
        }
        if !self.rest().starts_with('<') {
            return self.err("expected '<'");
        }
        self.pos += 1;
        let mut el = Element { name: self.name()?, ..Element::default() };
        loop {
            self.skip_ws();
            let r = self.rest();
            if let Some(stripped) = r.strip_prefix("/>") {
                let _ = stripped;
                self.pos += 2;
                self.depth -= 1;
                return Ok(el);
            }
            if r.starts_with('>') {
                self.pos += 1;
                break;
            }
            let an = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return self.err("expected '=' after an attribute name");
            }
            self.pos += 1;
            self.skip_ws();
            let q = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.err("expected a quoted attribute value"),
            };
            self.pos += 1;
            let end = self.rest().find(q).ok_or_else(|| WireError::Xml("unterminated attribute value".into()))?;
            let raw = &self.rest()[..end];
            if raw.contains('<') {
                return self.err("'<' in an attribute value");
            }
            el.attrs.push((an, unescape(raw)?));
            self.pos += end + 1;
        }
        loop {
            let r = self.rest();
            let lt = r.find('<').ok_or_else(|| WireError::Xml(format!("element <{}> is not closed", el.name)))?;
            el.text.push_str(&unescape(&r[..lt])?);
            self.pos += lt;
            if self.rest().starts_with("</") {
                self.pos += 2;
                let n = self.name()?;
                if n != el.name {
                    return self.err(&format!("</{n}> closes <{}>", el.name));
                }
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return self.err("expected '>'");
                }
                self.pos += 1;
                self.depth -= 1;
                return Ok(el);
            } else if self.rest().starts_with("<!--") {
                let end = self.rest().find("-->").ok_or_else(|| WireError::Xml("unterminated comment".into()))?;
                self.pos += end + 3;
            } else {
                el.children.push(self.element()?);
            }
        }
    }
}

/// Parses a document into its root element.
pub fn parse(s: &str) -> Result<Element, WireError> {
    if let Some(i) = s.find(|c| !is_xml_char(c)) {
        return Err(WireError::Xml(format!("character U+{:04X} at byte {i} is not allowed in XML 1.0", s[i..].chars().next().map_or(0, |c| c as u32))));
    }
    let mut r = Reader { s, pos: 0, depth: 0 };
    r.skip_misc()?;
    let root = r.element()?;
    r.skip_misc()?;
    if r.pos != s.len() {
        return r.err("content after the root element");
    }
    Ok(root)
}
