//! GetObjectAttributes names the ETag without the quotes every other S3 answer
//! (headers, listings, CompleteMultipartUpload) puts around it. s3s writes every
//! `ETag` element quoted, so the provider marks its GetObjectAttributes answer with
//! [`Unquoted`] and [`apply`] takes the quotes off in the finished document.
//!
//! AWS's behaviour: moto's tests/test_s3/test_s3_object_attributes.py
//! (`test_get_etag`: "etag comes with quotes originally", compared unquoted with the
//! attribute), and LocalStack's AWS-validated `test_get_object_attributes` snapshot.

/// Marks a response whose top-level `<ETag>` must lose its quotes.
#[derive(Debug, Clone, Copy)]
pub struct Unquoted;

/// Takes the quotes off the ETag in a GetObjectAttributes response marked
/// [`Unquoted`]; anything else is left as it is.
pub fn apply(resp: &mut http::Response<s3s::Body>) {
    if resp.extensions_mut().remove::<Unquoted>().is_none() || !resp.status().is_success() {
        return;
    }
    let Some(bytes) = resp.body().bytes() else { return };
    let Some(xml) = std::str::from_utf8(&bytes).ok().and_then(unquote) else { return };
    crate::set_body(resp, xml);
}

/// The document with its `<ETag>"…"</ETag>` written `<ETag>…</ETag>`; None when it
/// has no quoted ETag. GetObjectAttributes has one ETag at most (its parts carry
/// none).
fn unquote(xml: &str) -> Option<String> {
    const OPEN: &str = "<ETag>\"";
    const CLOSE: &str = "\"</ETag>";
    let start = xml.find(OPEN)?;
    let value_start = start + OPEN.len();
    let len = xml[value_start..].find(CLOSE)?;
    let value = &xml[value_start..value_start + len];
    let end = value_start + len + CLOSE.len();
    Some(format!("{}<ETag>{value}</ETag>{}", &xml[..start], &xml[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_come_off_the_etag_only() {
        let xml = "<GetObjectAttributesResponse><ETag>\"abc-2\"</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>";
        assert_eq!(
            unquote(xml).as_deref(),
            Some("<GetObjectAttributesResponse><ETag>abc-2</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>")
        );
        assert_eq!(unquote("<GetObjectAttributesResponse><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>"), None);
    }

    #[test]
    fn only_marked_successes_change() {
        let xml = "<GetObjectAttributesResponse><ETag>\"e\"</ETag></GetObjectAttributesResponse>";
        let mut plain = http::Response::new(s3s::Body::from(xml.to_string()));
        apply(&mut plain);
        assert_eq!(plain.body().bytes().as_deref(), Some(xml.as_bytes()));
        let mut marked = http::Response::new(s3s::Body::from(xml.to_string()));
        marked.extensions_mut().insert(Unquoted);
        apply(&mut marked);
        assert_eq!(marked.body().bytes().as_deref(), Some(&b"<GetObjectAttributesResponse><ETag>e</ETag></GetObjectAttributesResponse>"[..]));
        assert_eq!(marked.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()), Some("73"));
    }
}
