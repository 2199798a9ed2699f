//! Writing what spreadsheets open: CSV records, with every cell a
//! spreadsheet would run as a formula written as text (CSV injection).

/// A cell that a spreadsheet would run as a formula is written as text:
/// one that starts with `= + - @`, a tab or a carriage return, also after
/// spaces or other whitespace (spreadsheets skip those before a formula).
pub fn cell(text: &str) -> String {
    let first = text
        .chars()
        .find(|c| !domain::text::is_whitespace(*c) || matches!(c, '\t' | '\r'));
    match first {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// One CSV record, line ending included.
pub fn line<S: AsRef<[u8]>>(cells: &[S]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(cells).expect("writing to memory");
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_written_as_text_even_after_whitespace() {
        for formula in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            " =HYPERLINK(\"https://evil.example\")",
            "  +1",
            "\u{3000}-1",
            "\u{A0}@x",
            " \t=1",
        ] {
            assert_eq!(cell(formula), format!("'{formula}"), "{formula:?}");
        }
        for text in ["Ana Souza", "1 = 1", "GC-500", " plain", "", "a@b.co"] {
            assert_eq!(cell(text), text, "{text:?}");
        }
    }
}
