//! A decimal number as JSON writes it (`12`, `12.5`, `0.000001`, `1e-05`,
//! `1.5E+3`), read exactly: a client sends whatever its number type prints,
//! and a bound such as "at least 10.005 GBP" is then applied to whole pence
//! without a binary fraction's rounding.

/// A finite decimal, `(-1)^negative × digits × 10^exponent`, from its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Decimal {
    negative: bool,
    /// The significant digits, without leading zeros; empty for zero.
    digits: String,
    /// The power of ten of the last digit.
    exponent: i64,
    /// The value as the nearest `f64` (infinite past its range), for
    /// comparisons and display.
    approximate: f64,
}

impl Decimal {
    /// Parses JSON's number syntax (leading zeros in the integer part are
    /// allowed). `None` for anything else: signs other than a leading `-`,
    /// `.5`, `5.`, `inf`, `NaN`, spaces.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let fraction = fraction.unwrap_or("");
        let mut power: i64 = 0;
        if let Some(exponent) = exponent {
            let (sign, magnitude) = match exponent.as_bytes().first() {
                Some(b'+') => (1, &exponent[1..]),
                Some(b'-') => (-1, &exponent[1..]),
                _ => (1, exponent),
            };
            if !all_digits(magnitude) {
                return None;
            }
            // Beyond ±10^15 every bound saturates or vanishes alike.
            let magnitude: i64 = magnitude
                .parse()
                .unwrap_or(i64::MAX)
                .min(1_000_000_000_000_000);
            power = sign * magnitude;
        }
        let digits = format!("{whole}{fraction}")
            .trim_start_matches('0')
            .to_owned();
        // The syntax is checked above, so this parses (to infinity past f64's range).
        let approximate: f64 = text.parse().ok()?;
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            exponent: power - fraction.len() as i64,
            digits,
            approximate,
        })
    }

    /// Below zero (`-0` is zero, not negative).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The nearest `f64`.
    pub fn approximate(&self) -> f64 {
        self.approximate
    }

    /// `self × 10^scale` rounded down to a whole number, saturating at
    /// `u64::MAX`; for a non-negative value.
    pub fn floor_scaled(&self, scale: i64) -> u64 {
        self.scaled(scale).0
    }

    /// `self × 10^scale` rounded up to a whole number, saturating at
    /// `u64::MAX`; for a non-negative value.
    pub fn ceil_scaled(&self, scale: i64) -> u64 {
        let (floor, inexact) = self.scaled(scale);
        if inexact {
            floor.saturating_add(1)
        } else {
            floor
        }
    }

    /// The whole part of `self × 10^scale` (saturating) and whether a
    /// fraction was cut off.
    fn scaled(&self, scale: i64) -> (u64, bool) {
        if self.digits.is_empty() {
            return (0, false);
        }
        let power = self.exponent.saturating_add(scale);
        let length = self.digits.len() as i64;
        if power >= 0 {
            // u64 holds 19 digits whatever they are.
            if length + power > 19 {
                return (u64::MAX, false);
            }
            let whole = self.digits.parse::<u64>().unwrap_or(u64::MAX);
            let value = 10u64
                .checked_pow(power as u32)
                .and_then(|p| whole.checked_mul(p))
                .unwrap_or(u64::MAX);
            return (value, false);
        }
        let cut = power.unsigned_abs();
        if cut >= length as u64 {
            return (0, true);
        }
        let (whole, rest) = self.digits.split_at((length as u64 - cut) as usize);
        let whole = if whole.len() > 19 {
            u64::MAX
        } else {
            whole.parse::<u64>().unwrap_or(u64::MAX)
        };
        (whole, rest.bytes().any(|b| b != b'0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn reads_what_json_writes() {
        for good in [
            "0", "-0", "-0.0", "12", "012", "12.5", "0.000001", "1e-05", "1.5E+3", "1e999",
        ] {
            assert!(Decimal::parse(good).is_some(), "{good:?}");
        }
        for bad in [
            "", "-", ".5", "5.", "+1", "1e", "1e+", "inf", "NaN", " 1", "1 ", "0x10", "1,5", "£1",
            "1.2.3", "--1",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad:?}");
        }
        assert!(!d("-0.0").is_negative());
        assert!(d("-0.01").is_negative());
    }

    #[test]
    fn scales_exactly_and_rounds_each_way() {
        assert_eq!(d("10.005").floor_scaled(2), 1000);
        assert_eq!(d("10.005").ceil_scaled(2), 1001);
        assert_eq!(d("10.5").floor_scaled(2), 1050);
        assert_eq!(d("10.5").ceil_scaled(2), 1050);
        assert_eq!(d("0.29").floor_scaled(2), 29);
        assert_eq!(d("1e-05").floor_scaled(2), 0);
        assert_eq!(d("1e-05").ceil_scaled(2), 1);
        assert_eq!(d("1.5E+3").floor_scaled(2), 150_000);
        assert_eq!(d("12.3400").ceil_scaled(2), 1234);
        assert_eq!(d("0").ceil_scaled(2), 0);
        assert_eq!(d("1e999").floor_scaled(2), u64::MAX);
        assert_eq!(d("1e-999").ceil_scaled(2), 1);
        assert_eq!(d("184467440737095516.15").floor_scaled(2), u64::MAX);
        assert_eq!(d("99999999999999999999999").ceil_scaled(2), u64::MAX);
    }
}
