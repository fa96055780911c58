//! A number's text as `serde_json::Value` prints it (`1000.0`, `1.5`, `0.001`, `1e+300`, `1e-7`,
//! `-0.0`), for the values the scenario check quotes in its messages (`found 1000.0`).
//!
//! serde_json writes an `f64` with the `zmij` crate (the shortest digits that read back as the
//! same number, then its layout); natively that is what this uses. In wasm the digits come from
//! the browser's own `Number.prototype.toString` (ECMA-262 §6.1.6.1.20: as few digits as read
//! back to the same number, the closest such when there are several), which is the same
//! shortest, closest digit string, and [`layout`] puts them as serde_json does: `zmij` was
//! 1,944 B (gzip) of the page's first wasm module (issue 10, docs/bench.md). A test holds
//! [`layout`] to serde_json's text over random numbers, with the digits of Rust's own shortest
//! formatting (`{:e}`, also shortest and closest).

/// serde_json's text of `x` (`null` when not finite, as serde_json writes it).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn text(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_default()
}

/// serde_json's text of `x` (`null` when not finite, as serde_json writes it), from the
/// browser's shortest digits (read a code unit at a time: they are ASCII, and no string crosses).
#[cfg(target_arch = "wasm32")]
pub(crate) fn text(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    // toString drops the sign of -0, which serde_json keeps ("-0.0").
    let Ok(js) = js_sys::Number::from(x.abs()).to_string_with_radix(10) else { return String::new() };
    from_shortest(x.is_sign_negative(), &mut (0..js.length()).map(|i| js.char_code_at(i) as u8))
}

/// serde_json's text from the shortest digits of |x| as written by `Number.prototype.toString`
/// (`123.45`, `0.000001`, `1e+21`, `1.5e-7`, `123456789012345680000`) or by Rust's `{:e}`
/// (`1.2345e2`): the significant digits and the power of ten of the first one, then [`layout`].
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // natively serde_json writes it; the tests use it
pub(crate) fn from_shortest(negative: bool, written: &mut dyn Iterator<Item = u8>) -> String {
    // One pass over the bytes (a few dozen): the digits after any leading zeros, how many digits
    // come before the point, and the exponent.
    let (mut digits, mut seen, mut lead, mut point) = (Vec::new(), 0i32, 0i32, None);
    let (mut in_exp, mut exp, mut exp_neg) = (false, 0i32, false);
    for c in written {
        match c {
            b'e' | b'E' => in_exp = true,
            b'-' => exp_neg = in_exp,
            b'.' => point = Some(seen),
            b'0'..=b'9' if in_exp => exp = exp.saturating_mul(10).saturating_add(i32::from(c - b'0')),
            b'0'..=b'9' => {
                seen += 1;
                if digits.is_empty() && c == b'0' {
                    lead += 1;
                } else {
                    digits.push(c);
                }
            }
            _ => {}
        }
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    let exp = point.unwrap_or(seen) - 1 - lead + if exp_neg { -exp } else { exp };
    layout(negative, &digits, exp)
}

/// `digits` (significant ASCII digits, no leading or trailing zero; none for zero) times
/// 10^(`exp` - digits + 1), laid out as zmij does for serde_json: plainly for a first digit from
/// 10^-5 to 10^15 (`1e15` is `1000000000000000.0`, a whole value keeps `.0`), else `d.ddde+x`
/// or `d.ddde-x`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn layout(negative: bool, digits: &[u8], exp: i32) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let n = digits.len() as i32;
    let digit = |out: &mut String, i: i32| out.push(char::from(digits[i as usize]));
    let zeros = |out: &mut String, k: i32| (0..k).for_each(|_| out.push('0'));
    if n == 0 {
        out.push_str("0.0");
    } else if (-5..=15).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            zeros(&mut out, -exp - 1);
        }
        for i in 0..n {
            digit(&mut out, i);
            if i == exp && i + 1 < n {
                out.push('.');
            }
        }
        if n - 1 <= exp {
            zeros(&mut out, exp + 1 - n);
            out.push_str(".0");
        }
    } else {
        for i in 0..n {
            digit(&mut out, i);
            if i == 0 && n > 1 {
                out.push('.');
            }
        }
        out.push_str(if exp < 0 { "e" } else { "e+" });
        out.push_str(&exp.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout of Rust's shortest digits is serde_json's text, over numbers at every edge
    /// and 200,000 random bit patterns; the forms `Number.prototype.toString` writes read the
    /// same digits.
    #[test]
    fn lays_out_as_serde_json() {
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            1000.0,
            486.0,
            1.5,
            -2.25,
            0.1,
            1e-5,
            1.5e-5,
            1e-6,
            1e15,
            1e16,
            9.999e15,
            1.2345e16,
            1e21,
            1e22,
            1e23,
            1e300,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            123456789012345680000.0,
            2592000000.0,
            1e13,
        ];
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = f64::from_bits(s);
            if x.is_finite() {
                xs.push(x);
            }
            // Short decimals too (the digits a scenario file holds).
            xs.push((s % 100_000_000) as f64 / [1.0, 10.0, 1000.0, 1e7][(s >> 60) as usize % 4]);
        }
        for x in xs {
            let want = serde_json::to_string(&x).unwrap();
            // serde_json's own digits, read and laid out again: the layout.
            assert_eq!(from_shortest(x.is_sign_negative(), &mut want.trim_start_matches('-').bytes()), want, "{x:e}");
            // Rust's shortest digits: the same text, or (a number halfway between two shortest
            // digit strings) as long a text whose last digit rounds the other way: Rust rounds a
            // tie up, zmij and ECMA-262's toString to the even digit.
            let rust = from_shortest(x.is_sign_negative(), &mut format!("{:e}", x.abs()).bytes());
            if rust != want {
                assert_eq!(rust.len(), want.len(), "{x:e}: {rust} / {want}");
                let (a, b) = (rust.as_bytes(), want.as_bytes());
                let at = (0..a.len()).find(|&i| a[i] != b[i]).unwrap();
                assert!(a[at].abs_diff(b[at]) == 1 && (b[at] - b'0') % 2 == 0, "{x:e}: {rust} / {want}");
            }
        }
        // What toString writes for some of them, and what serde_json writes.
        for (js, want) in [
            ("1000", "1000.0"),
            ("0.000001", "1e-6"),
            ("0.00001", "0.00001"),
            ("1e+21", "1e+21"),
            ("1.5e-7", "1.5e-7"),
            ("123456789012345680000", "1.2345678901234568e+20"),
            ("5e-324", "5e-324"),
            ("486", "486.0"),
            ("0", "0.0"),
            ("1.7976931348623157e+308", "1.7976931348623157e+308"),
            ("1000000000000000", "1000000000000000.0"),
        ] {
            assert_eq!(from_shortest(false, &mut js.bytes()), want, "{js}");
        }
        assert_eq!(from_shortest(true, &mut "0".bytes()), "-0.0");
        assert_eq!(from_shortest(true, &mut "2.5".bytes()), "-2.5");
    }
}
