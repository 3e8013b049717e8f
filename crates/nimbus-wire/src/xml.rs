//! A minimal XML writer for responses: elements, text and escaping, nothing more.

pub struct XmlWriter {
    buf: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        Self { buf: String::with_capacity(512) }
    }

    pub fn declaration(&mut self) {
        self.buf.push_str("<?xml version=\"1.0\"?>");
    }

    pub fn open_ns(&mut self, tag: &str, ns: &str) {
        if ns.is_empty() {
            return self.open(tag);
        }
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(" xmlns=\"");
        escape_into(&mut self.buf, ns);
        self.buf.push_str("\">");
    }

    pub fn open(&mut self, tag: &str) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    pub fn close(&mut self, tag: &str) {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    pub fn empty(&mut self, tag: &str) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str("/>");
    }

    pub fn element(&mut self, tag: &str, text: &str) {
        self.open(tag);
        escape_into(&mut self.buf, text);
        self.close(tag);
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

/// Escapes text for element content and attribute values. Carriage returns are
/// escaped too, as AWS does, since XML parsers would otherwise normalise them away.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        let mut s = String::new();
        super::escape_into(&mut s, "a<b>&\"'\r\n");
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;&apos;&#xD;\n");
    }
}
