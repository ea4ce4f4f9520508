//! The name a phone gives itself when it enrolls (`device` of `POST /api/v1/enroll`), shown to
//! the health office next to the account's devices.
//!
//! One rule for both ends: at most [`DeviceName::MAX_CHARS`] characters, no control characters,
//! blank means no name. The enrollment form refuses what breaks it ([`DeviceName::parse`], with
//! the usual bilingual messages); the server clips what a phone sent ([`DeviceName::clip`])
//! instead of refusing it, because a label is never worth a failed enrollment.

use crate::error::{Field, ValidationError};
use std::fmt;

/// A device's name: trimmed, not blank, no control characters, at most
/// [`DeviceName::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceName(String);

impl DeviceName {
    /// The longest name, in characters (Unicode scalar values). "王医生的手机" is 6.
    pub const MAX_CHARS: usize = 60;

    /// A name as typed in the enrollment form: `Ok(None)` when blank, an error when too long
    /// or holding control characters.
    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::ControlCharacters {
                field: Field::DeviceName,
            });
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::TooLong {
                field: Field::DeviceName,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Some(DeviceName(name.to_owned())))
    }

    /// What the server keeps of any name a phone sent: control characters dropped, trimmed,
    /// cut to [`DeviceName::MAX_CHARS`] characters; `None` when nothing is left. A name
    /// [`DeviceName::parse`] accepts is kept as it is.
    pub fn clip(raw: &str) -> Option<Self> {
        let printable: String = raw.chars().filter(|c| !c.is_control()).collect();
        let cut: String = printable.trim().chars().take(Self::MAX_CHARS).collect();
        let name = cut.trim_end();
        (!name.is_empty()).then(|| DeviceName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use proptest::prelude::*;

    #[test]
    fn the_form_takes_up_to_sixty_characters() {
        let sixty = "机".repeat(DeviceName::MAX_CHARS);
        assert_eq!(
            DeviceName::parse(&format!(" {sixty} "))
                .unwrap()
                .unwrap()
                .as_str(),
            sixty
        );
        let err = DeviceName::parse(&format!("{sixty}a")).unwrap_err();
        assert_eq!(err.code(), "too_long");
        assert_eq!(err.message(Lang::Zh), "设备名称过长：最多 60 个字");
        assert_eq!(
            err.message(Lang::En),
            "The device name is too long: at most 60 characters"
        );
    }

    #[test]
    fn blank_is_no_name_and_control_characters_are_refused() {
        assert_eq!(DeviceName::parse("").unwrap(), None);
        assert_eq!(DeviceName::parse(" \u{3000} ").unwrap(), None);
        let err = DeviceName::parse("测试手机\u{7}").unwrap_err();
        assert_eq!(err.code(), "control_characters");
        assert_eq!(err.message(Lang::Zh), "设备名称含有不可见的控制字符");
        assert_eq!(
            err.message(Lang::En),
            "The device name contains invisible control characters"
        );
    }

    #[test]
    fn the_server_clips_instead_of_refusing() {
        assert_eq!(
            DeviceName::clip("测试手机\u{7}").unwrap().as_str(),
            "测试手机"
        );
        assert_eq!(DeviceName::clip("\u{7} \n"), None);
        let long = format!("  {}  tail", "a".repeat(DeviceName::MAX_CHARS - 1));
        let clipped = DeviceName::clip(&long).unwrap();
        assert_eq!(clipped.as_str(), "a".repeat(DeviceName::MAX_CHARS - 1));
        assert_eq!(
            DeviceName::clip(&"b".repeat(100))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            DeviceName::MAX_CHARS
        );
    }

    proptest! {
        #[test]
        fn what_the_form_accepts_the_server_keeps_unchanged(raw in "\\PC{0,80}") {
            if let Ok(parsed) = DeviceName::parse(&raw) {
                prop_assert_eq!(DeviceName::clip(&raw), parsed);
            }
        }

        #[test]
        fn what_the_server_keeps_the_form_would_accept(raw in "\\PC{0,80}|[\\x00-\\x1f a-z]{0,80}") {
            if let Some(clipped) = DeviceName::clip(&raw) {
                prop_assert_eq!(DeviceName::parse(clipped.as_str()).unwrap(), Some(clipped.clone()));
                prop_assert!(clipped.as_str().chars().count() <= DeviceName::MAX_CHARS);
            }
        }
    }
}
