//! `nimbus logs <function-or-group>`: a person's view of a log group — each event's
//! time and message, oldest first — read with FilterLogEvents from a running server,
//! and with `--follow`, polled every second for new events.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::{json, Value};

use crate::aws_client::{AwsJsonClient, CallError};
use crate::cli::LogsArgs;

const POLL_EVERY: Duration = Duration::from_secs(1);
/// Each poll looks this far behind the newest event seen: events can arrive late and
/// out of order across streams. Already printed events are recognised by id.
const LOOKBACK_MS: u64 = 60_000;

/// `/aws/lambda/<name>` for a function name; a name starting with '/' is a group already.
pub fn log_group_for(target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else {
        format!("/aws/lambda/{target}")
    }
}

/// `30s`, `10m`, `2h`, `1d`, `1w` → milliseconds.
pub fn parse_since(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("--since {s:?}: expected a number and a unit, like 10m"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" | "" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(format!("--since {s:?}: the unit must be s, m, h, d or w")),
    };
    Ok(n.saturating_mul(unit_ms))
}

/// `2026-01-31T12:00:00.123Z` for milliseconds since the epoch.
pub fn format_time(ms: u64) -> String {
    let d = nimbus_wire::sigv4::format_amz_date(ms / 1000); // YYYYMMDDTHHMMSSZ
    format!("{}-{}-{}T{}:{}:{}.{:03}Z", &d[0..4], &d[4..6], &d[6..8], &d[9..11], &d[11..13], &d[13..15], ms % 1000)
}

pub fn run(args: LogsArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nimbus logs: cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        match follow(args).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("nimbus logs: {e}");
                1
            }
        }
    })
}

async fn follow(args: LogsArgs) -> Result<(), String> {
    let since = parse_since(&args.since)?;
    let endpoint = args.endpoint_url.as_deref().unwrap_or("http://127.0.0.1:4566").trim_end_matches('/').to_string();
    let client = AwsJsonClient::new(&endpoint, &args.region, "test", "test")?;
    let group = log_group_for(&args.target);
    let mut start = nimbus_core::now_millis().saturating_sub(since);
    // Printed event ids → their timestamps (pruned as the lookback window moves).
    let mut printed: HashMap<String, u64> = HashMap::new();
    let mut said_waiting = false;
    loop {
        match read_since(&client, &group, start).await {
            Ok(events) => {
                for e in events {
                    let id = e["eventId"].as_str().unwrap_or_default().to_string();
                    let ts = e["timestamp"].as_u64().unwrap_or(0);
                    if printed.contains_key(&id) {
                        continue;
                    }
                    let message = e["message"].as_str().unwrap_or_default().trim_end_matches(['\n', '\r']);
                    // A closed stdout (`nimbus logs f | head`) ends the command quietly.
                    if writeln!(std::io::stdout().lock(), "{} {message}", format_time(ts)).is_err() {
                        return Ok(());
                    }
                    printed.insert(id, ts);
                }
                if let Some(newest) = printed.values().max().copied() {
                    start = start.max(newest.saturating_sub(LOOKBACK_MS));
                    printed.retain(|_, ts| *ts >= start);
                }
            }
            Err(CallError::Aws { code, .. }) if code == "ResourceNotFoundException" => {
                if !args.follow {
                    return Err(format!("log group {group} does not exist (has the function run yet?)"));
                }
                if !said_waiting {
                    eprintln!("nimbus logs: waiting for log group {group} to appear...");
                    said_waiting = true;
                }
            }
            Err(CallError::Aws { code, message }) => return Err(format!("{code}: {message}")),
            Err(CallError::Unreachable(e)) => {
                return Err(format!("cannot reach nimbus at {endpoint} ({e}). Is `nimbus serve` running?"))
            }
            Err(CallError::Protocol(e)) => return Err(format!("unexpected answer from {endpoint}: {e}")),
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Every event of `group` from `start` on, following `nextToken` to the end.
async fn read_since(client: &AwsJsonClient, group: &str, start: u64) -> Result<Vec<Value>, CallError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({ "logGroupName": group, "startTime": start });
        if let Some(t) = &token {
            input["nextToken"] = t.clone().into();
        }
        let out = client.call("logs", "Logs_20140328.FilterLogEvents", &input).await?;
        if let Some(page) = out["events"].as_array() {
            events.extend(page.iter().cloned());
        }
        match out["nextToken"].as_str() {
            Some(t) if token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(events),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_map_to_lambda_groups() {
        assert_eq!(log_group_for("my-fn"), "/aws/lambda/my-fn");
        assert_eq!(log_group_for("/custom/group"), "/custom/group");
    }

    #[test]
    fn since_units() {
        assert_eq!(parse_since("10m").unwrap(), 600_000);
        assert_eq!(parse_since("30s").unwrap(), 30_000);
        assert_eq!(parse_since("2h").unwrap(), 7_200_000);
        assert_eq!(parse_since("1d").unwrap(), 86_400_000);
        assert_eq!(parse_since("5").unwrap(), 300_000);
        assert!(parse_since("m").is_err());
        assert!(parse_since("10y").is_err());
    }

    #[test]
    fn times_are_utc_iso8601() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(1_440_938_160_123), "2015-08-30T12:36:00.123Z");
    }
}
