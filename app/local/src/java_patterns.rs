//! The order schema's patterns run in `java.util.regex`, the engine API
//! Gateway's validator runs them in (`infra/emulator/JavaPatterns.java`),
//! on hostile texts of 64 KiB: the schema test checks the verdicts and that
//! none overflows Java's stack, the `schema_patterns` benchmark times them.
//! API Gateway validates a body of up to 10 MB before the template's 64 KiB
//! check, so a pattern that backtracks or recurses per character would be a
//! way to tie up or break the validator with one request.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::emulator::{JACKSON, java_classpath, piped, workspace};

/// A hostile text's length: the largest body the API queues.
pub const HOSTILE_CHARS: usize = 64 * 1024;

/// Every `pattern` in the order schema, with the JSON path it sits at.
pub fn schema_patterns() -> Vec<(String, String)> {
    fn walk(value: &Value, path: &str, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("pattern", Value::String(pattern)) => {
                            found.push((path.to_owned(), pattern.clone()))
                        }
                        _ => walk(value, &format!("{path}/{key}"), found),
                    }
                }
            }
            Value::Array(list) => {
                for (index, value) in list.iter().enumerate() {
                    walk(value, &format!("{path}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace("infra/schemas/order-request.json"))
            .expect("the order schema"),
    )
    .expect("the schema is JSON");
    let mut found = Vec::new();
    walk(&schema, "", &mut found);
    found
}

/// The kind of field a pattern checks, from where it sits in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Names, address lines, postal codes: any characters but control
    /// characters, with one that is not whitespace.
    Text,
    Email,
    /// SKU and country: a bounded length, so no long text matches.
    Code,
}

impl Field {
    pub fn of(path: &str) -> Self {
        if path.contains("email") {
            Field::Email
        } else if path.contains("/definitions/text") || path.contains("postalCode") {
            Field::Text
        } else {
            Field::Code
        }
    }
}

/// A text for the patterns: its name, the text as a JSON string literal (so
/// that a lone surrogate can be written), and whether a text field's and an
/// email's pattern accept it.
pub struct Probe {
    pub name: &'static str,
    pub literal: String,
    pub text: bool,
    pub email: bool,
}

impl Probe {
    fn new(
        name: &'static str,
        text: &str,
        accepted_as_text: bool,
        accepted_as_email: bool,
    ) -> Self {
        Self::literal(
            name,
            serde_json::to_string(text).expect("a string"),
            accepted_as_text,
            accepted_as_email,
        )
    }

    fn literal(name: &'static str, literal: String, text: bool, email: bool) -> Self {
        Self {
            name,
            literal,
            text,
            email,
        }
    }

    pub fn expected(&self, field: Field) -> Verdict {
        let accepted = match field {
            Field::Text => self.text,
            Field::Email => self.email,
            Field::Code => false,
        };
        if accepted {
            Verdict::Matches
        } else {
            Verdict::DoesNotMatch
        }
    }
}

/// Texts built to make a backtracking engine work hardest on the schema's
/// patterns: 64 KiB runs of what a pattern's repetitions accept, ending where
/// it must give up.
pub fn hostile_probes() -> Vec<Probe> {
    let n = HOSTILE_CHARS;
    vec![
        Probe::new(
            "letters, then a control character",
            &format!("{}\u{1}", "a".repeat(n - 1)),
            false,
            false,
        ),
        Probe::new("spaces only", &" ".repeat(n), false, false),
        Probe::new(
            "spaces, then a control character",
            &format!("{}\u{1}", " ".repeat(n - 1)),
            false,
            false,
        ),
        Probe::new(
            "emoji, then U+FFFF",
            &format!("{}\u{FFFF}", "\u{1F600}".repeat(n / 2 - 1)),
            false,
            false,
        ),
        Probe::new(
            "an email whose domain is labels, then a control character",
            &format!("a@{}\u{1}", "a.".repeat(n / 2 - 2)),
            false,
            false,
        ),
        Probe::new(
            "an email whose domain is all dots",
            &format!("a@{}", ".".repeat(n - 2)),
            true,
            true,
        ),
        Probe::new("only @", &"@".repeat(n), true, false),
        Probe::new("capitals", &"A".repeat(n), true, false),
    ]
}

/// Everyday texts, which pin how Java reads the patterns' escapes.
pub fn everyday_probes() -> Vec<Probe> {
    vec![
        Probe::new("a name", "Ana Souza", true, false),
        Probe::new("an email", "ana@example.com", true, true),
        Probe::new("an emoji (a surrogate pair)", "\u{1F600}", true, false),
        Probe::literal("a lone surrogate", r#""\ud800x""#.to_owned(), false, false),
        Probe::new("U+FEFF only", "\u{FEFF}", false, false),
        Probe::new("a line break inside", "a\nb", false, false),
        Probe::new("the shortest email", "a@b.c", true, true),
        Probe::new("a domain ending in its dot", "a@b.", true, false),
        Probe::new("a domain whose only dot is first", "a@.b", true, false),
        Probe::new(
            "a domain with a dot first and another",
            "a@.b.c",
            true,
            true,
        ),
    ]
}

/// What Java's engine made of one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Matches,
    DoesNotMatch,
    /// `StackOverflowError`: API Gateway's validator would fail, not answer.
    Overflows,
}

/// Runs each pattern on each probe with `Matcher.find()`, `repeats` times;
/// each verdict with the fastest run, pattern by pattern, probe by probe.
pub fn run(
    patterns: &[(String, String)],
    probes: &[Probe],
    repeats: u32,
) -> Vec<(Verdict, Duration)> {
    let classpath = java_classpath(&JACKSON);
    let mut input = String::new();
    for (_, pattern) in patterns {
        let pattern = serde_json::to_string(pattern).expect("a string");
        for probe in probes {
            input.push_str(&format!("[{pattern},{}]\n", probe.literal));
        }
    }
    let output = piped(
        Command::new("java").args([
            "-Xss1m",
            "-cp",
            &classpath,
            &workspace("infra/emulator/JavaPatterns.java"),
            &repeats.to_string(),
        ]),
        input,
        "Java",
    );
    String::from_utf8(output)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let (verdict, nanos) = line.split_once('\t').expect("verdict and time");
            let verdict = match verdict {
                "true" => Verdict::Matches,
                "false" => Verdict::DoesNotMatch,
                "overflow" => Verdict::Overflows,
                other => panic!("JavaPatterns answered {other:?}"),
            };
            (
                verdict,
                Duration::from_nanos(nanos.parse().expect("nanoseconds")),
            )
        })
        .collect()
}
