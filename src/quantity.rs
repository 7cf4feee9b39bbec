//! Kubernetes resource quantities (`100Gi`, `1.5T`, `500M`), for comparing sizes.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The value of a quantity in base units (bytes for storage), or `None` when
/// the text is not a valid size: not a quantity, negative (the API server
/// refuses negative sizes, so only a damaged or forged capture has one) or
/// beyond what a float holds. No size comparison is drawn from such a value.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => 10f64.powi(exp[1..].parse().ok()?),
        _ => return None,
    };
    let bytes = value * factor;
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes)
}

/// The value of an optional quantity field.
pub fn bytes(q: Option<&Quantity>) -> Option<f64> {
    q.and_then(|q| parse(&q.0))
}

/// A byte count in binary units, one decimal below 100: `9.8Gi`, `512Mi`,
/// `100`.
pub fn binary(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    let shown = if value < 100.0 {
        (value * 10.0).floor() / 10.0
    } else {
        value.floor()
    };
    format!("{shown}{unit}")
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn binary_and_decimal_suffixes() {
        assert_eq!(parse("1Gi"), Some(1073741824.0));
        assert_eq!(parse("100Mi"), Some(104857600.0));
        assert_eq!(parse("1G"), Some(1e9));
        assert_eq!(parse("1.5Ti"), Some(1.5 * 1024f64.powi(4)));
        assert_eq!(parse("5e3"), Some(5000.0));
        assert_eq!(parse("1024"), Some(1024.0));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse("lots"), None);
        assert_eq!(parse("10Qi"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn absurd_sizes_are_not_sizes() {
        assert_eq!(parse("-5Gi"), None);
        assert_eq!(super::binary(100), "100");
        assert_eq!(super::binary(10_522_669_875), "9.7Gi");
        assert_eq!(super::binary(20 * 1024 * 1024 * 1024), "20Gi");
        assert_eq!(super::binary(19_971_597_926), "18.5Gi");
        assert_eq!(super::binary(u64::MAX), "16Ei");
        assert_eq!(parse("1e400"), None);
        assert_eq!(
            parse("999999999999999999999999999Ei"),
            Some(999999999999999999999999999.0 * 1024f64.powi(6))
        );
        assert_eq!(parse("0"), Some(0.0));
    }
}
