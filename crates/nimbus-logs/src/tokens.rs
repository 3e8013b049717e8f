//! Positions in a stream and pages of lists, as the opaque tokens clients pass back.
//!
//! GetLogEvents: a token names a boundary between events (every event sorts either
//! before or at/after it) and a direction. `f/<boundary>/s` reads forward from the
//! boundary, `b/<boundary>/s` reads the events just before it. After a page the forward
//! token sits just after the last event returned and the backward token at the first,
//! so a reader at the end gets back the very token it sent, as AWS documents.

use crate::errors;
use crate::model::{Event, EventKey};

/// Both tokens' digits: 20 for the timestamp, 36 for the arrival number (AWS's are 56).
fn encode_key((ts, seq): EventKey) -> String {
    format!("{ts:020}{seq:036}")
}

fn decode_key(digits: &str) -> Option<EventKey> {
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ts: u64 = digits[..20].parse().ok()?;
    let seq: u128 = digits[20..].parse().ok()?;
    Some((ts, u64::try_from(seq).ok()?))
}

/// The id FilterLogEvents gives an event.
pub fn event_id(e: &Event) -> String {
    encode_key(e.key())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamToken {
    pub direction: Direction,
    pub boundary: EventKey,
}

impl StreamToken {
    pub fn encode(&self) -> String {
        let d = match self.direction {
            Direction::Forward => 'f',
            Direction::Backward => 'b',
        };
        format!("{d}/{}/s", encode_key(self.boundary))
    }

    pub fn decode(token: &str) -> Result<StreamToken, nimbus_core::AwsError> {
        let parse = || {
            let rest = token.strip_suffix("/s")?;
            let (d, digits) = rest.split_once('/')?;
            let direction = match d {
                "f" => Direction::Forward,
                "b" => Direction::Backward,
                _ => return None,
            };
            Some(StreamToken { direction, boundary: decode_key(digits)? })
        };
        parse().ok_or_else(errors::invalid_token)
    }
}

/// One GetLogEvents page: the events (ascending) and the next tokens.
#[derive(Debug)]
pub struct StreamPage<'a> {
    pub events: &'a [Event],
    pub forward: StreamToken,
    pub backward: StreamToken,
}

/// Reads one page of `events` (sorted by key). `start`/`end` bound timestamps
/// (start inclusive, end exclusive); without a token the page is the first `limit`
/// events when `from_head`, else the last `limit`. A page also holds no more than
/// `max_bytes` of messages (26 bytes per event counted), but at least one event.
pub fn stream_page(
    events: &[Event],
    start: Option<u64>,
    end: Option<u64>,
    token: Option<StreamToken>,
    limit: usize,
    from_head: bool,
    max_bytes: usize,
) -> StreamPage<'_> {
    let lo = start.map_or(0, |s| events.partition_point(|e| e.timestamp < s));
    let hi = end.map_or(events.len(), |t| events.partition_point(|e| e.timestamp < t)).max(lo);
    let window = &events[lo..hi];
    let (from, to) = match token {
        Some(StreamToken { direction: Direction::Forward, boundary }) => {
            let i = window.partition_point(|e| e.key() < boundary);
            (i, (i + limit).min(window.len()))
        }
        Some(StreamToken { direction: Direction::Backward, boundary }) => {
            let j = window.partition_point(|e| e.key() < boundary);
            (j.saturating_sub(limit), j)
        }
        None if from_head => (0, limit.min(window.len())),
        None => (window.len().saturating_sub(limit), window.len()),
    };
    let forward = match token {
        Some(t) => t.direction == Direction::Forward,
        None => from_head,
    };
    let (from, to) = within_bytes(&window[from..to], max_bytes, forward, from);
    let page = &window[from..to];
    let (forward, backward) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => ((last.timestamp, last.seq + 1), first.key()),
        _ => {
            let at = token.map_or((start.unwrap_or(0), 0), |t| t.boundary);
            (at, at)
        }
    };
    StreamPage {
        events: page,
        forward: StreamToken { direction: Direction::Forward, boundary: forward },
        backward: StreamToken { direction: Direction::Backward, boundary: backward },
    }
}

/// Narrows `page` (which starts at `offset`) to what fits in `max_bytes`, keeping its
/// first events when reading forward and its last when reading backward.
fn within_bytes(page: &[Event], max_bytes: usize, forward: bool, offset: usize) -> (usize, usize) {
    let size = |e: &Event| e.message.len() + crate::model::EVENT_OVERHEAD;
    let mut bytes = 0;
    let fits = |e: &Event, bytes: &mut usize| {
        *bytes += size(e);
        *bytes <= max_bytes
    };
    let n = if forward {
        page.iter().take_while(|e| fits(e, &mut bytes)).count()
    } else {
        page.iter().rev().take_while(|e| fits(e, &mut bytes)).count()
    };
    let n = n.max(1).min(page.len());
    if forward {
        (offset, offset + n)
    } else {
        (offset + page.len() - n, offset + page.len())
    }
}

/// FilterLogEvents' `nextToken`: the boundary after the last event returned.
pub fn encode_filter_token(after: EventKey) -> String {
    encode_key(after)
}

pub fn decode_filter_token(token: &str) -> Result<EventKey, nimbus_core::AwsError> {
    decode_key(token).ok_or_else(errors::invalid_token)
}

/// DescribeLogGroups/DescribeLogStreams `nextToken`: how many items were already listed.
pub fn encode_offset(offset: usize) -> String {
    hex::encode(format!("offset:{offset}"))
}

pub fn decode_offset(token: &str) -> Result<usize, nimbus_core::AwsError> {
    hex::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(errors::invalid_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn events(timestamps: &[u64]) -> Vec<Event> {
        timestamps
            .iter()
            .enumerate()
            .map(|(i, &ts)| Event { timestamp: ts, seq: i as u64 + 1, ingested: ts, message: Arc::from(format!("m{i}")) })
            .collect()
    }

    const MB: usize = 1_048_576;

    fn msgs(p: &StreamPage) -> Vec<String> {
        p.events.iter().map(|e| e.message.to_string()).collect()
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = StreamToken { direction: Direction::Backward, boundary: (1_700_000_000_000, 42) };
        let s = t.encode();
        assert!(s.starts_with("b/") && s.ends_with("/s"));
        assert_eq!(StreamToken::decode(&s).unwrap(), t);
        for bad in ["", "f//s", "x/000/s", "f/12/s", "garbage"] {
            assert_eq!(StreamToken::decode(bad).unwrap_err().code, "InvalidParameterException");
        }
        assert_eq!(decode_offset(&encode_offset(7)).unwrap(), 7);
        assert!(decode_offset("zz").is_err());
        assert_eq!(decode_filter_token(&encode_filter_token((5, 6))).unwrap(), (5, 6));
    }

    #[test]
    fn forward_paging_ends_with_the_same_token() {
        let ev = events(&[10, 20, 30, 40, 50]);
        let p1 = stream_page(&ev, None, None, None, 2, true, MB);
        assert_eq!(msgs(&p1), ["m0", "m1"]);
        let p2 = stream_page(&ev, None, None, Some(p1.forward), 2, true, MB);
        assert_eq!(msgs(&p2), ["m2", "m3"]);
        let p3 = stream_page(&ev, None, None, Some(p2.forward), 2, true, MB);
        assert_eq!(msgs(&p3), ["m4"]);
        let p4 = stream_page(&ev, None, None, Some(p3.forward), 2, true, MB);
        assert!(p4.events.is_empty());
        assert_eq!(p4.forward, p3.forward, "at the end the same token comes back");
        // going back from the third page returns the second
        let back = stream_page(&ev, None, None, Some(p3.backward), 2, true, MB);
        assert_eq!(msgs(&back), ["m2", "m3"]);
    }

    #[test]
    fn tail_by_default_and_backward_to_the_start() {
        let ev = events(&[10, 20, 30, 40, 50]);
        let last = stream_page(&ev, None, None, None, 2, false, MB);
        assert_eq!(msgs(&last), ["m3", "m4"]);
        let b1 = stream_page(&ev, None, None, Some(last.backward), 2, false, MB);
        assert_eq!(msgs(&b1), ["m1", "m2"]);
        let b2 = stream_page(&ev, None, None, Some(b1.backward), 2, false, MB);
        assert_eq!(msgs(&b2), ["m0"]);
        let b3 = stream_page(&ev, None, None, Some(b2.backward), 2, false, MB);
        assert!(b3.events.is_empty());
        assert_eq!(b3.backward, b2.backward);
        // new events after a tail read are found with its forward token
        let mut more = ev.clone();
        more.push(Event { timestamp: 60, seq: 99, ingested: 60, message: Arc::from("new") });
        let next = stream_page(&more, None, None, Some(last.forward), 10, false, MB);
        assert_eq!(msgs(&next), ["new"]);
    }

    #[test]
    fn time_window_is_start_inclusive_end_exclusive() {
        let ev = events(&[10, 20, 30, 40]);
        let p = stream_page(&ev, Some(20), Some(40), None, 100, true, MB);
        assert_eq!(msgs(&p), ["m1", "m2"]);
        let empty = stream_page(&ev, Some(100), None, None, 100, true, MB);
        assert!(empty.events.is_empty());
        assert_eq!(empty.forward.boundary, (100, 0));
    }

    #[test]
    fn pages_hold_at_most_max_bytes() {
        let ev = events(&[1, 2, 3, 4]); // "m0".."m3": 2 + 26 = 28 bytes each
        let head = stream_page(&ev, None, None, None, 100, true, 60);
        assert_eq!(msgs(&head), ["m0", "m1"]);
        let next = stream_page(&ev, None, None, Some(head.forward), 100, true, 60);
        assert_eq!(msgs(&next), ["m2", "m3"]);
        let tail = stream_page(&ev, None, None, None, 100, false, 60);
        assert_eq!(msgs(&tail), ["m2", "m3"]);
        let back = stream_page(&ev, None, None, Some(tail.backward), 100, false, 60);
        assert_eq!(msgs(&back), ["m0", "m1"]);
        // never an empty page because one event is big
        assert_eq!(msgs(&stream_page(&ev, None, None, None, 100, true, 1)), ["m0"]);
    }

    #[test]
    fn equal_timestamps_keep_arrival_order_across_pages() {
        let ev = events(&[5, 5, 5]);
        let p1 = stream_page(&ev, None, None, None, 1, true, MB);
        let p2 = stream_page(&ev, None, None, Some(p1.forward), 1, true, MB);
        let p3 = stream_page(&ev, None, None, Some(p2.forward), 1, true, MB);
        assert_eq!([msgs(&p1), msgs(&p2), msgs(&p3)].concat(), ["m0", "m1", "m2"]);
    }
}
