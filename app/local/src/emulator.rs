//! Running the independent implementations of API Gateway's parts in
//! `infra/emulator/` (Java and Node programs the tests and benchmarks feed
//! on standard input).

use std::io::Write;
use std::process::{Command, Stdio};

/// The repository's path of `path`.
pub fn workspace(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A Java class path of Debian's jars (`/usr/share/java`).
pub fn java_classpath(jars: &[&str]) -> String {
    jars.iter()
        .map(|jar| format!("/usr/share/java/{jar}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Jackson's jars, as Debian's `libjackson2-databind-java` installs them.
pub const JACKSON: [&str; 3] = [
    "jackson-databind.jar",
    "jackson-core.jar",
    "jackson-annotations.jar",
];

/// Runs `command` with `input` on its standard input; its standard output.
pub fn piped(command: &mut Command, input: String, what: &str) -> Vec<u8> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{what} runs (scripts/check installs it): {error}"));
    // Write from another thread: the answers fill the pipe while we write.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("it ran");
    writer.join().expect("the writer").expect("wrote the input");
    assert!(output.status.success(), "{what} ran");
    output.stdout
}
