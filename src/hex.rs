//! Lowercase hexadecimal text of bytes: content hashes, ETags, asset
//! fingerprints. One encoder, so every digest the program shows is spelled
//! the same way.

/// The digits, indexed by nibble.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex, two digits per byte: `[0x0f, 0xa0]` -> `"0fa0"`.
/// Pushes digits from a table rather than `format!`ting each byte, which
/// would allocate a `String` per byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn encodes_every_byte_as_two_lowercase_digits() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), expected);
    }
}
