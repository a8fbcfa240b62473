//! Tokenizer for filters and paths.
//!
//! Tokens: `(` `)` `[` `]`, words (attribute paths, operators, keywords, `true`/`false`/
//! `null`: maximal runs of letters, digits and `:._-$` not starting with a digit or `-`),
//! JSON strings and JSON numbers. Whitespace (space, tab, CR, LF) separates tokens; the RFC
//! asks for single spaces, but any amount is accepted.
//!
//! The lexer is pull-based and allocation-free except for strings that contain escapes.

use std::borrow::Cow;

use scim_model::path::is_path_char;

use crate::error::ParseError;

/// A token kind, borrowing from the input where possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Word(&'a str),
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    End,
}

/// A token and where it starts and ends (byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
    pub end: usize,
}

impl Token<'_> {
    /// The token's text, for error messages.
    pub fn text<'s>(&self, input: &'s str) -> &'s str {
        input.get(self.start..self.end).unwrap_or_default()
    }
}

pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.input.as_bytes().get(at).copied()
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.input.get(start..end).unwrap_or_default()
    }

    pub fn next_token(&mut self) -> Result<Token<'a>, ParseError> {
        while matches!(self.byte(self.pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(first) = self.byte(start) else {
            return Ok(Token {
                tok: Tok::End,
                start,
                end: start,
            });
        };
        let tok = match first {
            b'(' => self.single(Tok::LParen),
            b')' => self.single(Tok::RParen),
            b'[' => self.single(Tok::LBracket),
            b']' => self.single(Tok::RBracket),
            b'"' => Tok::Str(self.string()?),
            b'-' | b'0'..=b'9' => Tok::Num(self.number()?),
            c if is_path_char(c) => {
                let end = self.run_of_path_chars(start);
                self.pos = end;
                Tok::Word(self.slice(start, end))
            }
            _ => {
                let found = self
                    .input
                    .get(start..)
                    .and_then(|rest| rest.chars().next())
                    .unwrap_or('\u{fffd}');
                return Err(ParseError::InvalidCharacter {
                    offset: start,
                    found,
                });
            }
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn single(&mut self, tok: Tok<'a>) -> Tok<'a> {
        self.pos += 1;
        tok
    }

    fn run_of_path_chars(&self, from: usize) -> usize {
        let mut end = from;
        while self.byte(end).is_some_and(is_path_char) {
            end += 1;
        }
        end
    }

    /// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, not directly
    /// followed by a word character.
    fn number(&mut self) -> Result<serde_json::Number, ParseError> {
        let start = self.pos;
        let mut at = start;
        let digits = |lexer: &Self, mut at: usize| {
            let from = at;
            while lexer.byte(at).is_some_and(|b| b.is_ascii_digit()) {
                at += 1;
            }
            (at, at - from)
        };
        if self.byte(at) == Some(b'-') {
            at += 1;
        }
        let int_start = at;
        let (after_int, int_len) = digits(self, at);
        let mut valid = int_len > 0 && !(int_len > 1 && self.byte(int_start) == Some(b'0'));
        at = after_int;
        if self.byte(at) == Some(b'.') {
            let (after_frac, frac_len) = digits(self, at + 1);
            valid &= frac_len > 0;
            at = after_frac;
        }
        if matches!(self.byte(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(self.byte(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let (after_exp, exp_len) = digits(self, at);
            valid &= exp_len > 0;
            at = after_exp;
        }
        // `12abc`, `1.2.3`: the number runs into a word.
        if self.byte(at).is_some_and(is_path_char) {
            valid = false;
            at = self.run_of_path_chars(at);
        }
        self.pos = at;
        let text = self.slice(start, at);
        let invalid = || ParseError::InvalidNumber {
            offset: start,
            text: truncate(text),
        };
        if !valid {
            return Err(invalid());
        }
        // The grammar is checked; convert with the standard library, whose float parsing is
        // correctly rounded (so printed numbers read back to the same value).
        let integral = !text.contains(['.', 'e', 'E']);
        let number = if integral && !text.starts_with('-') {
            text.parse::<u64>().ok().map(serde_json::Number::from)
        } else if integral {
            text.parse::<i64>().ok().map(serde_json::Number::from)
        } else {
            None
        };
        number
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
            })
            .ok_or_else(invalid)
    }

    /// A JSON string; the opening quote is at `self.pos`.
    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let open = self.pos;
        let content_start = open + 1;
        let bytes = self.input.as_bytes();
        // Fast path: no escapes.
        let mut at = content_start;
        loop {
            match bytes.get(at) {
                None => return Err(ParseError::UnterminatedString { offset: open }),
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(Cow::Borrowed(self.slice(content_start, at)));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => {
                    return Err(ParseError::ControlCharacter {
                        offset: at,
                        code: u32::from(b),
                    });
                }
                Some(_) => at += 1,
            }
        }
        let mut out = String::from(self.slice(content_start, at));
        loop {
            match bytes.get(at) {
                None => return Err(ParseError::UnterminatedString { offset: open }),
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    let (c, next) = self.escape(at)?;
                    out.push(c);
                    at = next;
                }
                Some(&b) if b < 0x20 => {
                    return Err(ParseError::ControlCharacter {
                        offset: at,
                        code: u32::from(b),
                    });
                }
                Some(_) => {
                    // Copy the run up to the next quote, backslash or control character.
                    let run_end = bytes
                        .get(at..)
                        .and_then(|rest| {
                            rest.iter()
                                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        })
                        .map_or(bytes.len(), |len| at + len);
                    out.push_str(self.slice(at, run_end));
                    at = run_end;
                }
            }
        }
    }

    /// Decodes the escape whose backslash is at `at`; returns the character and the offset
    /// after the escape.
    fn escape(&self, at: usize) -> Result<(char, usize), ParseError> {
        let invalid = |len: usize| ParseError::InvalidEscape {
            offset: at,
            sequence: truncate(
                self.input
                    .get(at..)
                    .map(|rest| {
                        let end = rest
                            .char_indices()
                            .nth(len)
                            .map_or(rest.len(), |(index, _)| index);
                        rest.get(..end).unwrap_or(rest)
                    })
                    .unwrap_or_default(),
            ),
        };
        let simple = match self.byte(at + 1) {
            None => return Err(ParseError::UnterminatedString { offset: at }),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let high = self.hex4(at + 2).ok_or_else(|| invalid(6))?;
                if (0xD800..0xDC00).contains(&high) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    let low = (self.byte(at + 6) == Some(b'\\') && self.byte(at + 7) == Some(b'u'))
                        .then(|| self.hex4(at + 8))
                        .flatten()
                        .filter(|low| (0xDC00..0xE000).contains(low))
                        .ok_or_else(|| invalid(12))?;
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    let c = char::from_u32(code).ok_or_else(|| invalid(12))?;
                    return Ok((c, at + 12));
                }
                let c = char::from_u32(high).ok_or_else(|| invalid(6))?;
                return Ok((c, at + 6));
            }
            Some(_) => return Err(invalid(2)),
        };
        Ok((simple, at + 2))
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.input.get(at..at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }
}

/// At most 40 characters of `text`, for messages.
pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Result<Vec<Tok<'_>>, ParseError> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token()?;
            if token.tok == Tok::End {
                return Ok(out);
            }
            out.push(token.tok);
        }
    }

    #[test]
    fn tokenizes() {
        assert_eq!(
            tokens(r#"emails[type eq "work"] and (x gt -1.5e3)"#).unwrap(),
            vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str(Cow::Borrowed("work")),
                Tok::RBracket,
                Tok::Word("and"),
                Tok::LParen,
                Tok::Word("x"),
                Tok::Word("gt"),
                Tok::Num(serde_json::Number::from_f64(-1500.0).unwrap()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn strings_decode_every_escape() {
        assert_eq!(
            tokens(r#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00 end""#).unwrap(),
            vec![Tok::Str(Cow::Owned("\"\\/\u{8}\u{c}\n\r\té😀 end".into()))]
        );
        assert_eq!(
            tokens("\"é😀\"").unwrap(),
            vec![Tok::Str(Cow::Borrowed("é😀"))]
        );
    }

    #[test]
    fn string_errors() {
        assert_eq!(
            tokens(r#""abc"#),
            Err(ParseError::UnterminatedString { offset: 0 })
        );
        assert_eq!(
            tokens(r#"x "a\"#),
            Err(ParseError::UnterminatedString { offset: 4 })
        );
        assert_eq!(
            tokens(r#""a\x""#),
            Err(ParseError::InvalidEscape {
                offset: 2,
                sequence: "\\x".into()
            })
        );
        assert_eq!(
            tokens(r#""\ud800x""#),
            Err(ParseError::InvalidEscape {
                offset: 1,
                sequence: "\\ud800x\"".into()
            })
        );
        assert_eq!(
            tokens(r#""\udc00""#),
            Err(ParseError::InvalidEscape {
                offset: 1,
                sequence: "\\udc00".into()
            })
        );
        assert_eq!(
            tokens(r#""\u12g4""#),
            Err(ParseError::InvalidEscape {
                offset: 1,
                sequence: "\\u12g4".into()
            })
        );
        assert_eq!(
            tokens("\"a\nb\""),
            Err(ParseError::ControlCharacter {
                offset: 2,
                code: 10
            })
        );
    }

    #[test]
    fn numbers_follow_json() {
        for ok in ["0", "-0", "12", "1.5", "-1.5e3", "1E+2", "2e-2"] {
            assert!(tokens(ok).is_ok(), "{ok}");
        }
        for bad in ["01", "1.", "-", "1e", "12abc", "1.2.3", "1e999", "-a"] {
            assert!(
                matches!(
                    tokens(bad),
                    Err(ParseError::InvalidNumber { .. })
                        | Err(ParseError::InvalidCharacter { .. })
                ),
                "{bad}: {:?}",
                tokens(bad)
            );
        }
    }

    #[test]
    fn rejects_stray_characters() {
        assert_eq!(
            tokens("a = b"),
            Err(ParseError::InvalidCharacter {
                offset: 2,
                found: '='
            })
        );
        assert_eq!(
            tokens("aé"),
            Err(ParseError::InvalidCharacter {
                offset: 1,
                found: 'é'
            })
        );
    }
}
