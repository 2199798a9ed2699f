//! How people look for an order: the keys an order is found by, folded so
//! that case and accents do not matter (`Chloé` is found as `chloe`).

use unicode_normalization::UnicodeNormalization;

/// Lower-case, without accents, spaces collapsed: `"  Chloé  MARTIN"` is `"chloe martin"`.
pub fn fold(text: &str) -> String {
    let plain: String = text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first character of a folded key (the partition of a prefix index);
/// `_` for an empty key.
pub fn initial(folded: &str) -> String {
    folded
        .chars()
        .next()
        .map_or_else(|| "_".to_owned(), |c| c.to_string())
}

/// The domain of an email address, lower-cased (`example.com`).
pub fn email_domain(email: &str) -> String {
    email
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_spacing() {
        assert_eq!(fold("  Chloé  MARTIN "), "chloe martin");
        assert_eq!(
            fold("Ørsted"),
            "ørsted",
            "letters that are not accents stay"
        );
        assert_eq!(fold("Zoë ﬁne"), "zoe fine", "compatibility forms too");
        assert_eq!(initial("chloe"), "c");
        assert_eq!(initial(""), "_");
        assert_eq!(email_domain("Ana@Example.COM"), "example.com");
    }
}
