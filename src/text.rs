//! Text that repeats what a caller sent (an error's echo, a log line's path)
//! cut to a bounded length, for every layer that does so.

/// The longest piece of a request (a value, a parameter name) an error
/// repeats back, in characters; longer ones are cut and marked with `…`.
pub const MAX_ECHO_CHARS: usize = 64;

/// `text` as an error may repeat it: at most [`MAX_ECHO_CHARS`] characters.
pub fn echo(text: &str) -> String {
    truncate(text, MAX_ECHO_CHARS)
}

/// `text` cut to `max_chars` characters, marked with `…` when cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_cut() {
        let long = "é".repeat(10_000);
        let shown = echo(&long);
        assert_eq!(shown.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(echo("short"), "short");
    }
}
