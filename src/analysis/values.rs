//! Typed table values. Each one prints a fixed number of decimals in CSV (so identical metrics
//! always give identical bytes, and an absent value is an empty field), reads the same text back,
//! and shows itself to people through [`super::human`] — one rounding rule per kind of number.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// Defines a fixed-decimal value type: `Option<f64>` inside, `decimals` places in CSV.
macro_rules! fixed_decimal {
    ($(#[$doc:meta])* $name:ident, $decimals:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct $name(pub Option<f64>);

        impl $name {
            /// Decimal places in CSV.
            pub const DECIMALS: usize = $decimals;

            /// A present value.
            pub fn of(x: f64) -> Self {
                Self(Some(x))
            }

            /// The CSV text: fixed decimals, empty when absent.
            pub fn csv(&self) -> String {
                self.0
                    .map_or_else(String::new, |x| format!("{x:.prec$}", prec = Self::DECIMALS))
            }

            /// The value as written to CSV and read back (what every human form starts from, so a
            /// reader of the CSV and of the report sees the same rounding).
            pub fn rounded(&self) -> Option<f64> {
                self.0.and_then(|_| self.csv().parse().ok())
            }
        }

        impl From<Option<f64>> for $name {
            fn from(v: Option<f64>) -> Self {
                Self(v)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.csv())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                if text.is_empty() {
                    return Ok(Self(None));
                }
                text.parse::<f64>().map(|x| Self(Some(x))).map_err(|_| {
                    de::Error::custom(format!(
                        "`{text}` is not a number (expected {} decimals)",
                        Self::DECIMALS
                    ))
                })
            }
        }
    };
}

fixed_decimal!(
    /// Milliseconds, three decimals (`12.345`).
    Ms,
    3
);
fixed_decimal!(
    /// A share 0..1 (or a utilisation, which may exceed 1), six decimals (`0.123456`).
    Share,
    6
);
fixed_decimal!(
    /// Kilometres, one decimal (`1234.5`).
    Km,
    1
);
fixed_decimal!(
    /// Concurrent connections, one decimal (`41200.5`); may be negative as a headroom.
    Conns,
    1
);
fixed_decimal!(
    /// Degrees of latitude or longitude, five decimals (about a metre).
    Degrees,
    5
);
fixed_decimal!(
    /// Any compared number (`comparison.csv`), six decimals.
    Figure,
    6
);

impl Share {
    /// `n / d`, absent when `d` is 0.
    pub fn ratio(n: u64, d: u64) -> Self {
        Self((d != 0).then(|| n as f64 / d as f64))
    }
}

impl Km {
    /// Mean of a metre sum over `n` items, in km; absent when `n` is 0.
    pub fn mean_of_metres(sum_m: u64, n: u64) -> Self {
        Self((n != 0).then(|| sum_m as f64 / n as f64 / 1000.0))
    }
}

impl Conns {
    /// Connections from the engine's millionths.
    pub fn from_micro(micro: u64) -> Self {
        Self(Some(micro as f64 / 1e6))
    }
}

impl fmt::Display for Ms {
    /// `12.3 ms`, or a dash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::human::ms(self.rounded()))
    }
}

impl fmt::Display for Share {
    /// `12.3%`, `<0.1%` for tiny non-zero shares, or a dash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::human::percent(self.rounded()))
    }
}

impl fmt::Display for Km {
    /// `1235 km`, or a dash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::human::km(self.rounded()))
    }
}

impl fmt::Display for Conns {
    /// Whole connections with thousands separators, or a dash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rounded() {
            Some(x) => f.write_str(&super::human::count(x.max(0.0).round() as u64)),
            None => f.write_str(super::human::MISSING),
        }
    }
}

impl fmt::Display for Degrees {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.csv())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        ms: Ms,
        share: Share,
        km: Km,
        conns: Conns,
    }

    #[test]
    fn csv_text_has_fixed_decimals_and_reads_back() {
        let row = Row {
            ms: Ms::of(12.3456),
            share: Share::ratio(1, 3),
            km: Km(None),
            conns: Conns::from_micro(41_200_500_000),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text, "ms,share,km,conns\n12.346,0.333333,,41200.5\n");
        let back: Row = csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(back.ms, Ms::of(12.346));
        assert_eq!(back.share.csv(), row.share.csv());
        assert_eq!(back.km, Km(None));
        assert_eq!(back.conns, row.conns);
    }

    #[test]
    fn bad_text_is_an_error() {
        let r: Result<Row, _> = csv::Reader::from_reader("ms,share,km,conns\nx,,,\n".as_bytes())
            .deserialize()
            .next()
            .unwrap();
        assert!(r.unwrap_err().to_string().contains("`x` is not a number"));
    }

    #[test]
    fn shown_forms_start_from_the_csv_rounding() {
        assert_eq!(Ms::of(12.3449).to_string(), "12.3 ms");
        assert_eq!(Ms(None).to_string(), "–");
        assert_eq!(Share::of(0.123456).to_string(), "12.3%");
        assert_eq!(Share::of(0.0000004).to_string(), "0.0%");
        assert_eq!(Share::of(0.000001).to_string(), "<0.1%");
        assert_eq!(Km::of(1234.56).to_string(), "1,235 km");
        assert_eq!(Conns::of(41_200.4).to_string(), "41,200");
    }
}
