//! Timestamps in the forms Lambda prints them, without a date library.

/// (year, month, day, hour, minute, second, millisecond) in UTC.
fn civil(ms: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32, (ms % 1000) as u32)
}

/// `2024-01-31T12:00:00.000+0000`, as FunctionConfiguration.LastModified.
pub fn last_modified(ms: u64) -> String {
    let (y, mo, d, h, mi, s, milli) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}+0000")
}

/// `2024-01-31T12:00:00.000Z`, as the runtime's log lines.
pub fn iso_z(ms: u64) -> String {
    let (y, mo, d, h, mi, s, milli) = civil(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// `2024/01/31`, the date part of a log stream name.
pub fn date_path(ms: u64) -> String {
    let (y, mo, d, ..) = civil(ms);
    format!("{y:04}/{mo:02}/{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(last_modified(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(iso_z(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(date_path(1_709_210_096_789), "2024/02/29");
        assert_eq!(iso_z(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
