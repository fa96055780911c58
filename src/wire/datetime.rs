//! RFC 3339 date-times as used by CPIM `DateTime` (RFC 3862 §5.6) and conference-info `when`.
//! Pure arithmetic on milliseconds since the Unix epoch: no clock is read.

use super::WireError;

/// Days since 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(epoch_ms: u64) -> String {
    let mut s = String::with_capacity(24);
    push_ms(&mut s, epoch_ms);
    s
}

/// Appends epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` to `out`.
pub fn push_ms(out: &mut String, epoch_ms: u64) {
    let secs = (epoch_ms / 1000) as i64;
    let ms = (epoch_ms % 1000) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    let (h, mi, se) = (sod / 3600, (sod / 60) % 60, sod % 60);
    if y >= 10_000 {
        out.push_str(&y.to_string());
    }
    // Digit by digit into a template, appended in one piece: `write!` with its formatter was a
    // twentieth of a run with wire texts, a division by a power of ten per digit still a fiftieth.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut b[0..4], y.rem_euclid(10_000) as u32);
    put_digits(&mut b[5..7], mo);
    put_digits(&mut b[8..10], d);
    put_digits(&mut b[11..13], h);
    put_digits(&mut b[14..16], mi);
    put_digits(&mut b[17..19], se);
    put_digits(&mut b[20..23], ms);
    let b = if y >= 10_000 { &b[4..] } else { &b[..] };
    // ASCII digits and separators only: one copy, not a push per character.
    out.push_str(std::str::from_utf8(b).unwrap_or_default());
}

/// Writes the last `to.len()` decimal digits of `v` into `to`, zero-padded.
fn put_digits(to: &mut [u8], mut v: u32) {
    for c in to.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` into epoch milliseconds.
pub fn parse_ms(s: &str) -> Result<u64, WireError> {
    let bad = || WireError::BadValue { header: "DateTime", value: s.to_string() };
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, WireError> {
        let part = s.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<u32>().map_err(|_| bad())
    };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 || y < 1970 {
        return Err(bad());
    }
    let rest = &s[19..];
    let ms = if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.strip_suffix('Z').ok_or_else(bad)?;
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let mut v: u32 = 0;
        for (i, c) in digits.bytes().take(3).enumerate() {
            v += (c - b'0') as u32 * [100, 10, 1][i];
        }
        v
    } else if rest == "Z" {
        0
    } else {
        return Err(bad());
    };
    let days = days_from_civil(y as i64, mo, d);
    let secs = days * 86_400 + (h * 3600 + mi * 60 + se) as i64;
    Ok(secs as u64 * 1000 + ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(253_402_300_800_007), "10000-01-01T00:00:00.007Z");
        let t = parse_ms("2024-05-14T09:12:44.120Z").unwrap();
        assert_eq!(format_ms(t), "2024-05-14T09:12:44.120Z");
        assert_eq!(parse_ms("2024-02-29T23:59:59Z").map(format_ms).unwrap(), "2024-02-29T23:59:59.000Z");
        for ms in [1_715_677_964_120u64, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(parse_ms(&format_ms(ms)).unwrap(), ms);
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "2024-13-01T00:00:00Z", "2024-05-14 09:12:44Z", "2024-05-14T09:12:44", "x024-05-14T09:12:44Z"] {
            assert!(parse_ms(s).is_err(), "{s}");
        }
    }
}
