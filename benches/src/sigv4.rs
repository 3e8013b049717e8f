//! AWS Signature Version 4 — just enough to sign awsJson POSTs.
//!
//! Canonical request → string to sign → signature with the derived key
//! (`AWS4<secret>` → date → region → service → `aws4_request`). The derived key
//! only changes with the UTC date, so each `Signer` caches it per day.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex SHA-256 of `data` (the payload hash of SigV4).
pub fn sha256_hex(data: &[u8]) -> String {
    hex32(&Sha256::digest(data).into())
}

/// Lowercase hex of a 32-byte digest. `hex::encode` builds its string a char at a
/// time, which showed in the generator's profile.
fn hex32(bytes: &[u8; 32]) -> String {
    let mut buf = [0u8; 64];
    // Infallible: the buffer is exactly twice the input, and hex digits are ASCII.
    let _ = hex::encode_to_slice(bytes, &mut buf);
    std::str::from_utf8(&buf).unwrap_or_default().to_owned()
}

/// The SigV4 signing key for one day (`yyyymmdd`), region and service.
pub fn derive_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// `X-Amz-Date` for a point in time: `yyyymmddThhmmssZ` (UTC).
pub fn amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Signs requests for one set of credentials, region and service.
#[derive(Clone)]
pub struct Signer {
    access_key: String,
    secret_key: String,
    region: String,
    service: String,
    /// The day's date, its signing key and its credential scope.
    cached: Option<(String, [u8; 32], String)>,
}

impl Signer {
    pub fn new(access_key: &str, secret_key: &str, region: &str, service: &str) -> Self {
        Signer {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            cached: None,
        }
    }

    fn signing_key(&mut self, date: &str) -> [u8; 32] {
        match &self.cached {
            Some((d, key, _)) if d == date => *key,
            _ => {
                let key = derive_key(&self.secret_key, date, &self.region, &self.service);
                let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
                self.cached = Some((date.to_owned(), key, scope));
                key
            }
        }
    }

    /// The `Authorization` header value for a request.
    ///
    /// `path` must already be URI-encoded and `query` already canonical (sorted,
    /// encoded); `headers` are the headers to sign with lowercase names. They are
    /// sorted here; values are trimmed. `amz_date` is the request's `X-Amz-Date`.
    pub fn authorization(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        payload_hash: &str,
        amz_date: &str,
    ) -> String {
        let mut sorted: Vec<(&str, &str)> = headers.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));

        let mut canonical = String::with_capacity(256);
        for part in [method, "\n", path, "\n", query, "\n"] {
            canonical.push_str(part);
        }
        let mut signed_headers = String::with_capacity(64);
        for (i, (name, value)) in sorted.iter().enumerate() {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value.trim());
            canonical.push('\n');
            if i > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }
        canonical.push('\n');
        canonical.push_str(&signed_headers);
        canonical.push('\n');
        canonical.push_str(payload_hash);

        let date = &amz_date[..8.min(amz_date.len())];
        let key = self.signing_key(date);
        let scope = &self
            .cached
            .as_ref()
            .map(|c| c.2.as_str())
            .unwrap_or_default();
        let mut string_to_sign = String::with_capacity(160);
        for part in ["AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n"] {
            string_to_sign.push_str(part);
        }
        string_to_sign.push_str(&sha256_hex(canonical.as_bytes()));
        let signature = hex32(&hmac(&key, string_to_sign.as_bytes()));
        let mut auth = String::with_capacity(200);
        for part in [
            "AWS4-HMAC-SHA256 Credential=",
            &self.access_key,
            "/",
            scope,
            ", SignedHeaders=",
            &signed_headers,
            ", Signature=",
            &signature,
        ] {
            auth.push_str(part);
        }
        auth
    }

    /// Signs an awsJson 1.0 `POST /`: signed headers content-type;host;x-amz-date;x-amz-target.
    pub fn sign_json(&mut self, host: &str, target: &str, amz_date: &str, body: &[u8]) -> String {
        let payload_hash = sha256_hex(body);
        self.authorization(
            "POST",
            "/",
            "",
            &[
                ("content-type", crate::client::JSON_CONTENT_TYPE),
                ("host", host),
                ("x-amz-date", amz_date),
                ("x-amz-target", target),
            ],
            &payload_hash,
            amz_date,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derived_key_matches_aws_docs() {
        // From AWS's "Examples of how to derive a signing key for Signature Version 4".
        let key = derive_key(SECRET, "20120215", "us-east-1", "iam");
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        let mut s = Signer::new("AKIDEXAMPLE", SECRET, "us-east-1", "service");
        let auth = s.authorization(
            "GET",
            "/",
            "",
            &[
                ("x-amz-date", "20150830T123600Z"),
                ("host", "example.amazonaws.com"),
            ],
            &sha256_hex(b""),
            "20150830T123600Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn aws_test_suite_post_vanilla() {
        let mut s = Signer::new("AKIDEXAMPLE", SECRET, "us-east-1", "service");
        let auth = s.authorization(
            "POST",
            "/",
            "",
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            &sha256_hex(b""),
            "20150830T123600Z",
        );
        assert!(auth.ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn json_request_matches_botocore() {
        // Oracle: botocore.auth.SigV4Auth over the same request (see README, "Checking the signer").
        let mut s = Signer::new("test", "test", "us-east-1", "sqs");
        let auth = s.sign_json(
            "127.0.0.1:4566",
            "AmazonSQS.SendMessage",
            "20260101T000000Z",
            br#"{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":"hi"}"#,
        );
        assert_eq!(auth, BOTOCORE_JSON_AUTH);
    }

    const BOTOCORE_JSON_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=ff1d37abffbf3cf338a61fe044c1b47a8ebf995ec4030c5e29c85dc128735add";

    #[test]
    fn signing_key_is_cached_per_day() {
        let mut s = Signer::new("test", "test", "us-east-1", "sqs");
        s.sign_json("h", "T", "20260101T000000Z", b"{}");
        let first = s.cached.clone().map(|c| c.0);
        s.sign_json("h", "T", "20260102T000000Z", b"{}");
        assert_eq!(first.as_deref(), Some("20260101"));
        assert_eq!(s.cached.as_ref().map(|c| c.0.as_str()), Some("20260102"));
    }

    #[test]
    fn amz_date_formats_utc() {
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        assert_eq!(amz_date(t), "20150830T123600Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 86_399); // 2000-02-29T23:59:59Z
        assert_eq!(amz_date(leap), "20000229T235959Z");
    }
}
