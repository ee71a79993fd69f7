//! Float formatting: the shortest digits that read back as the same `f64`.
//!
//! Two styles, one digit source (the standard library's shortest round-trip `{:e}`):
//! sample values as Python's `repr` writes them (`42.0`, `0.1`, `1e+21`, `1.5e-07`), and
//! the canonical form OpenMetrics asks of `le` and `quantile` values, which is Go's
//! `strconv.FormatFloat(v, 'g', -1, 64)` with `.0` added to integers (`1.0`, `100000.0`,
//! `1e+06`).

use core::fmt::Write as _;

/// How a float is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatStyle {
    /// Python's `repr`: positional for decimal exponents in `-4..16`.
    Value,
    /// Go's `%g`: positional for decimal exponents in `-4..6` (OpenMetrics `le`/`quantile`).
    Canonical,
}

impl FloatStyle {
    const fn positional_below(self) -> i32 {
        match self {
            FloatStyle::Value => 16,
            FloatStyle::Canonical => 6,
        }
    }
}

/// Appends `v` to `out`.
pub(crate) fn write_float(out: &mut Vec<u8>, v: f64, style: FloatStyle) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    // Integers print exactly through itoa, far faster than the digit search below.
    let limit = match style {
        FloatStyle::Value => 1e15,
        FloatStyle::Canonical => 1e5,
    };
    if v.fract() == 0.0 && v.abs() < limit {
        if v == 0.0 && v.is_sign_negative() {
            out.push(b'-');
        }
        #[allow(clippy::cast_possible_truncation)] // |v| < 1e15 and integral: exact
        let int = v as i64;
        out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
        out.extend_from_slice(b".0");
        return;
    }
    write_general(out, v, style);
}

/// Appends an integer counter value in the same spelling [`write_float`] uses.
pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.extend_from_slice(b".0");
}

fn write_general(out: &mut Vec<u8>, v: f64, style: FloatStyle) {
    let mut scratch = Scratch::default();
    // `{:e}` gives the shortest round-trip digits: `-1.2345e-7`, `1e21`.
    write!(scratch, "{v:e}").expect("a finite f64 fits in 32 bytes");
    let text = scratch.as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = text
        .iter()
        .position(|&c| c == b'e')
        .expect("`{:e}` writes an exponent");
    let (mantissa, exponent) = (&text[..e_at], &text[e_at + 1..]);
    let exponent: i32 = core::str::from_utf8(exponent)
        .ok()
        .and_then(|e| e.parse().ok())
        .expect("a decimal exponent");
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &c in mantissa {
        if c != b'.' {
            digits[n] = c;
            n += 1;
        }
    }
    let digits = &digits[..n];

    if negative {
        out.push(b'-');
    }
    if exponent < -4 || exponent >= style.positional_below() {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(magnitude).as_bytes());
    } else if exponent < 0 {
        out.extend_from_slice(b"0.");
        out.extend(core::iter::repeat_n(
            b'0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.extend_from_slice(digits);
    } else {
        let int_len = exponent.unsigned_abs() as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(core::iter::repeat_n(b'0', int_len - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// A fixed buffer for `{:e}`: the longest f64 in that form is 24 bytes.
#[derive(Default)]
struct Scratch {
    buf: [u8; 32],
    len: usize,
}

impl Scratch {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Write for Scratch {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v, FloatStyle::Value);
        String::from_utf8(out).unwrap()
    }

    fn canonical(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v, FloatStyle::Canonical);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_match_python_repr() {
        // Each pair is Python's own output (reference/python_client_0.26_output.txt).
        for (v, python) in [
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-07"),
            (42.0, "42.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (1e16, "1e+16"),
            (123_456_789_012_345_678.0, "1.2345678901234568e+17"),
            (1.795_627_490_772_016e9, "1795627490.772016"),
            (11.673, "11.673"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1e15, "1000000000000000.0"),
            (-2.5e-300, "-2.5e-300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ] {
            assert_eq!(value(v), python, "{v:e}");
        }
    }

    #[test]
    fn canonical_matches_go_with_point_zero() {
        for (v, want) in [
            (1.0, "1.0"),
            (10.0, "10.0"),
            (100_000.0, "100000.0"),
            (1e6, "1e+06"),
            (0.005, "0.005"),
            (2.5, "2.5"),
            (1_234_567.0, "1.234567e+06"),
            (0.00001, "1e-05"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(canonical(v), want);
        }
    }

    #[test]
    fn every_spelling_reads_back() {
        let mut x = 1.234_567_890_123e-310_f64;
        while x.is_finite() {
            for v in [x, -x, x.next_up()] {
                assert_eq!(value(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
                assert_eq!(canonical(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
            }
            x *= 7.3;
        }
    }
}
