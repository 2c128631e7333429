//! Money as integer pence, so sums, comparisons and SQL filters are exact.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::{Decimal, DomainError};

/// An amount in GBP held as whole pence (`51.77` is `Price(5177)`).
///
/// Displays as `51.77`; serialises to JSON as the number `51.77` with exactly
/// two decimals (never `51.8` or `10.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(u64);

impl Price {
    pub const fn from_pence(pence: u64) -> Self {
        Price(pence)
    }

    pub const fn pence(self) -> u64 {
        self.0
    }

    /// Parses a GBP amount as the site or a user writes it: `51.77`, `£51.77`,
    /// `10`, `10.5`. More than two decimals, signs and non-numbers are errors.
    ///
    /// ```
    /// use books::domain::Price;
    /// assert_eq!(Price::parse_gbp("£51.77").unwrap().pence(), 5177);
    /// assert_eq!(Price::parse_gbp("10.5").unwrap().to_string(), "10.50");
    /// assert!(Price::parse_gbp("-1").is_err());
    /// ```
    pub fn parse_gbp(text: &str) -> Result<Self, DomainError> {
        let err = || DomainError::Price(text.to_owned());
        let digits = text.trim().trim_start_matches('£').trim();
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 2 {
            return Err(err());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(err());
        }
        let whole: u64 = whole.parse().map_err(|_| err())?;
        let frac: u64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        whole
            .checked_mul(100)
            .and_then(|p| p.checked_add(frac))
            .map(Price)
            .ok_or_else(err)
    }
}

/// A bound on prices as a client writes it: any non-negative number of GBP
/// in JSON's syntax (`10`, `12.5`, `10.005`, `1e3`). Prices are whole pence,
/// so a bound applies exactly: "at least 10.005" keeps prices from 10.01,
/// "at most 10.005" prices up to 10.00.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceBound(Decimal, String);

impl PriceBound {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Decimal::parse(text)
            .filter(|value| !value.is_negative())
            .map(|value| PriceBound(value, text.to_owned()))
            .ok_or_else(|| DomainError::PriceBound(text.to_owned()))
    }

    /// The lowest price not below the bound.
    pub fn lowest_price(&self) -> Price {
        Price(self.0.ceil_scaled(2))
    }

    /// The highest price not above the bound.
    pub fn highest_price(&self) -> Price {
        Price(self.0.floor_scaled(2))
    }

    /// Whether this bound is above `other`. Exact unless the two differ
    /// beyond an `f64`'s precision, where they count as equal (and the range
    /// between them holds no whole penny anyway).
    pub fn is_above(&self, other: &PriceBound) -> bool {
        self.0.approximate() > other.0.approximate()
    }
}

/// As the client wrote it (cut after 24 characters).
impl fmt::Display for PriceBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1.char_indices().nth(24) {
            Some((cut, _)) => write!(f, "{}…", &self.1[..cut]),
            None => f.write_str(&self.1),
        }
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Price {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Price::parse_gbp(s)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_raw_number(&self.to_string(), serializer)
    }
}

/// A derived figure (an average, a median) shown with two decimals, as a JSON
/// number: `35.07`, not `35.0702`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Decimal2(pub f64);

impl fmt::Display for Decimal2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Adding 0.0 turns -0.0 into 0.0; non-finite values have no JSON form.
        let value = if self.0.is_finite() {
            self.0 + 0.0
        } else {
            0.0
        };
        write!(f, "{value:.2}")
    }
}

impl Serialize for Decimal2 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_raw_number(&self.to_string(), serializer)
    }
}

/// Emits `number` verbatim as a JSON number through serde_json's raw values,
/// so the two decimals survive. `number` is always produced by our own
/// formatting above, so it is valid JSON.
fn serialize_raw_number<S: Serializer>(number: &str, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(number.to_owned()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

// Their OpenAPI schemas: both serialise as numbers by hand.

/// A price or a derived figure: serialised by hand as a JSON number with
/// two decimals, which derive cannot see.
fn two_decimals(description: &str, example: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .description(Some(description))
        .examples([example])
        .into()
}

impl PartialSchema for Price {
    fn schema() -> RefOr<Schema> {
        two_decimals("An amount in GBP, written with two decimals.", 51.77)
    }
}

impl ToSchema for Price {}

impl PartialSchema for Decimal2 {
    fn schema() -> RefOr<Schema> {
        two_decimals(
            "A derived figure (an average, a median), written with two decimals.",
            35.07,
        )
    }
}

impl ToSchema for Decimal2 {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_site_and_user_amounts() {
        assert_eq!(Price::parse_gbp("£51.77").unwrap().pence(), 5177);
        assert_eq!(Price::parse_gbp("51.77").unwrap().pence(), 5177);
        assert_eq!(Price::parse_gbp("10").unwrap().pence(), 1000);
        assert_eq!(Price::parse_gbp("10.5").unwrap().pence(), 1050);
        assert_eq!(Price::parse_gbp("0.00").unwrap().pence(), 0);
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "",
            "abc",
            "-1",
            "1.234",
            "NaN",
            "inf",
            "1e3",
            "1.",
            ".5",
            "1,00",
            "99999999999999999999",
        ] {
            assert!(Price::parse_gbp(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_bound_applies_to_whole_pence() {
        let bound = |text| PriceBound::parse(text).unwrap();
        assert_eq!(bound("10.005").lowest_price().pence(), 1001);
        assert_eq!(bound("10.005").highest_price().pence(), 1000);
        assert_eq!(bound("12.5").lowest_price().pence(), 1250);
        assert_eq!(bound("12.5").highest_price().pence(), 1250);
        assert_eq!(bound("1e3").lowest_price().pence(), 100_000);
        assert_eq!(bound("-0").highest_price().pence(), 0);
        assert_eq!(bound("1e300").highest_price().pence(), u64::MAX);
        assert!(bound("10.01").is_above(&bound("10.005")));
        assert!(!bound("10.005").is_above(&bound("10.005")));
        for bad in ["", "-1", "-0.01", "abc", "£10", "inf", "NaN", ".5"] {
            assert!(PriceBound::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn displays_and_serialises_with_two_decimals() {
        let p = Price::from_pence(1000);
        assert_eq!(p.to_string(), "10.00");
        assert_eq!(serde_json::to_string(&p).unwrap(), "10.00");
        assert_eq!(serde_json::to_string(&Decimal2(35.0702)).unwrap(), "35.07");
        assert_eq!(serde_json::to_string(&Decimal2(-0.0)).unwrap(), "0.00");
    }
}
