//! Float formatting: the shortest digits that read back as the same `f64` (ryu), spelled
//! as Go's `strconv.FormatFloat(v, 'g', -1, 64)` with `.0` added to integers: `42.0`,
//! `0.1`, `100000.0`, `1e+06`, `1.5e-07`, `+Inf`. That is the canonical form OpenMetrics
//! asks of `le` and `quantile` values, and what Python's client writes for positive
//! sample values; one spelling everywhere.

/// Appends `v` to `out`.
pub(crate) fn write_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    // Integers below 10^6 (Go's switch to exponents) print through itoa, far faster.
    if v.fract() == 0.0 && v.abs() < 1e6 {
        if v == 0.0 && v.is_sign_negative() {
            out.push(b'-');
        }
        #[allow(clippy::cast_possible_truncation)] // |v| < 1e6 and integral: exact
        let int = v as i64;
        out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
        out.extend_from_slice(b".0");
        return;
    }
    write_general(out, v);
}

/// Appends an integer counter value in the same spelling [`write_float`] uses.
pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.extend_from_slice(b".0");
}

fn write_general(out: &mut Vec<u8>, v: f64) {
    if v.is_sign_negative() {
        out.push(b'-');
    }
    let mut ryu = ryu::Buffer::new();
    let (digits, exponent) = Digits::of(ryu.format_finite(v.abs()));
    let digits = digits.as_bytes();
    if !(-4..6).contains(&exponent) {
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

/// The significant digits of a positive decimal number and the decimal exponent of the
/// first one: `0.00123` is `123` and -3, `1.5e21` is `15` and 21.
struct Digits {
    buf: [u8; 24],
    len: usize,
}

impl Digits {
    /// Reads ryu's shortest round-trip spelling (`0.3`, `1e16`, `1.5e-7`, `123.0`).
    fn of(text: &str) -> (Digits, i32) {
        let (mantissa, exp10) = match text.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().expect("ryu writes a decimal exponent")),
            None => (text, 0),
        };
        let point = mantissa.find('.').unwrap_or(mantissa.len());
        let mut digits = Digits {
            buf: [0; 24],
            len: 0,
        };
        let mut leading_zeros = 0;
        for &c in mantissa.as_bytes().iter().filter(|c| c.is_ascii_digit()) {
            if digits.len == 0 && c == b'0' {
                leading_zeros += 1;
            } else {
                digits.buf[digits.len] = c;
                digits.len += 1;
            }
        }
        while digits.len > 1 && digits.buf[digits.len - 1] == b'0' {
            digits.len -= 1;
        }
        let point = i32::try_from(point).expect("short");
        (digits, exp10 + point - 1 - leading_zeros)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn spelled_as_go_with_point_zero() {
        for (v, want) in [
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (42.0, "42.0"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (100_000.0, "100000.0"),
            (999_999.0, "999999.0"),
            (1e6, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (123_456.7, "123456.7"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e21, "1e+21"),
            (123_456_789_012_345_678.0, "1.2345678901234568e+17"),
            (1.795_627_490_772_016e9, "1.795627490772016e+09"),
            (11.673, "11.673"),
            (-2.5e-300, "-2.5e-300"),
            (-1e6, "-1e+06"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ] {
            assert_eq!(spell(v), want, "{v:e}");
        }
    }

    #[test]
    fn every_spelling_reads_back() {
        let mut x = 1.234_567_890_123e-310_f64;
        while x.is_finite() {
            for v in [x, -x, x.next_up(), x.round()] {
                assert_eq!(
                    spell(v).parse::<f64>().unwrap().to_bits(),
                    v.to_bits(),
                    "{v:e}"
                );
            }
            x *= 7.3;
        }
    }
}
