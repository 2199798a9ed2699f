//! What counts as text a person typed, defined once for the Rust validator
//! and for the JSON Schema API Gateway validates with.
//!
//! The schema's regular expressions run in Java (API Gateway's validator;
//! ECMAScript with the `u` flag reads them alike: code points, a lone
//! surrogate its own) and the Rust validator runs on `char`s; the two
//! disagree on what `\s` means (ECMAScript counts U+FEFF, Unicode counts
//! U+0085) and a Java string may hold a lone surrogate, a Rust string cannot.
//! So neither uses a built-in class: both use the explicit sets below, the
//! schema's patterns are built from them ([`text_pattern`],
//! [`email_pattern`]), and the agreement test checks that the schema file
//! carries exactly these.
//!
//! The patterns have no nested or overlapping repetitions, and no repeated
//! group: a backtracking engine runs them in time linear in the text (a
//! body of 10 MB reaches the validator), and Java, which recurses once per
//! repetition of a group with alternatives, cannot overflow its stack.

/// Whitespace: the union of ECMAScript's `\s` and Unicode's `White_Space`.
pub const WHITESPACE: [char; 26] = [
    '\u{9}', '\u{A}', '\u{B}', '\u{C}', '\u{D}', '\u{20}', '\u{85}', '\u{A0}', '\u{1680}',
    '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}',
    '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
    '\u{FEFF}',
];

pub fn is_whitespace(c: char) -> bool {
    WHITESPACE.contains(&c)
}

/// Characters no text field may hold: control characters (C0, DEL, C1),
/// and the noncharacters U+FFFE and U+FFFF (SQS refuses them in a message).
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// Characters an email address may not hold besides whitespace, `@` and
/// the forbidden ones: the specials of RFC 5322 that only quoted or
/// bracketed forms use (which no shop customer needs), and `?`, which would
/// turn a `mailto:` link into one with extra recipients (`?cc=`).
pub const EMAIL_SPECIALS: [char; 12] =
    ['"', '<', '>', '?', '(', ')', ',', ';', ':', '\\', '[', ']'];

/// Why a piece of text is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    Blank,
    Forbidden(char),
}

/// Text with at least one visible character and nothing forbidden.
pub fn check(text: &str) -> Result<(), TextProblem> {
    if let Some(bad) = text.chars().find(|c| is_forbidden(*c)) {
        return Err(TextProblem::Forbidden(bad));
    }
    if text.chars().all(is_whitespace) {
        return Err(TextProblem::Blank);
    }
    Ok(())
}

/// `\uXXXX` for one code point of the Basic Multilingual Plane, as Java and
/// ECMAScript regular expressions write it.
fn unit(code: u32) -> String {
    format!("\\u{code:04X}")
}

/// A character-class range.
fn range(from: u32, to: u32) -> String {
    if from == to {
        unit(from)
    } else {
        format!("{}-{}", unit(from), unit(to))
    }
}

/// Code points a text field may never hold: controls, lone surrogates,
/// U+FFFE and U+FFFF.
fn forbidden_units() -> String {
    [
        range(0x0, 0x1F),
        range(0x7F, 0x9F),
        range(0xD800, 0xDFFF),
        range(0xFFFE, 0xFFFF),
    ]
    .concat()
}

/// The whitespace code points, as class ranges.
fn whitespace_units() -> String {
    units(WHITESPACE.iter().copied())
}

/// The whitespace a text may hold (the rest are control characters).
fn allowed_whitespace_units() -> String {
    units(WHITESPACE.iter().copied().filter(|c| !is_forbidden(*c)))
}

fn units(chars: impl Iterator<Item = char>) -> String {
    let mut codes: Vec<u32> = chars.map(u32::from).collect();
    codes.sort_unstable();
    let mut ranges = String::new();
    let mut start = codes[0];
    let mut previous = codes[0];
    for &code in &codes[1..] {
        if code != previous + 1 {
            ranges.push_str(&range(start, previous));
            start = code;
        }
        previous = code;
    }
    ranges.push_str(&range(start, previous));
    ranges
}

/// The schema pattern of a text field: only allowed characters, at least
/// one of them not whitespace. Written as leading whitespace, the first
/// visible character, then anything allowed, so that no two repetitions
/// can take the same character.
pub fn text_pattern() -> String {
    let space = format!("[{}]", allowed_whitespace_units());
    let visible = format!("[^{}{}]", forbidden_units(), whitespace_units());
    let allowed = format!("[^{}]", forbidden_units());
    format!("^{space}*{visible}{allowed}*$")
}

/// The email specials as an ECMAScript character class writes them.
fn email_special_units() -> String {
    EMAIL_SPECIALS
        .iter()
        .map(|c| match c {
            '\\' | '[' | ']' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

/// The schema pattern of an email address: something, `@`, a domain with a
/// dot that is neither its first nor its last character, with no
/// whitespace, `@`, email special or forbidden character in either part.
/// The domain is written as its first character, the characters up to its
/// next dot (none a dot), the dot, the rest: one way to match each address.
pub fn email_pattern() -> String {
    let excluded = format!(
        "{}{}{}",
        email_special_units(),
        forbidden_units(),
        whitespace_units()
    );
    let any = format!("[^@{excluded}]");
    let not_dot = format!("[^.@{excluded}]");
    format!("^{any}+@{any}{not_dot}*\\.{any}+$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_the_union_of_both_definitions() {
        for c in ['\u{FEFF}', '\u{85}', ' ', '\t', '\u{3000}'] {
            assert!(is_whitespace(c), "{c:?}");
        }
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if c.is_whitespace() {
                assert!(is_whitespace(c), "Unicode whitespace {c:?} is in the set");
            }
        }
        assert!(!is_whitespace('a'));
    }

    #[test]
    fn text_must_be_visible_and_clean() {
        assert_eq!(check("Ana Souza"), Ok(()));
        assert_eq!(check("Zoë 😀"), Ok(()));
        assert_eq!(check("\u{FEFF}"), Err(TextProblem::Blank));
        assert_eq!(check(" \u{3000} "), Err(TextProblem::Blank));
        assert_eq!(check("a\tb"), Err(TextProblem::Forbidden('\t')));
        assert_eq!(check("a\u{85}b"), Err(TextProblem::Forbidden('\u{85}')));
        assert_eq!(check("a\u{FFFF}"), Err(TextProblem::Forbidden('\u{FFFF}')));
    }

    #[test]
    fn patterns_spell_the_sets() {
        assert!(
            whitespace_units()
                .starts_with("\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A")
        );
        assert!(text_pattern().starts_with("^[\\u0020\\u00A0\\u1680"));
        assert!(text_pattern().contains("\\uD800-\\uDFFF"));
        assert!(email_pattern().starts_with("^[^@\"<>?(),;:\\\\\\[\\]\\u0000"));
    }
}
