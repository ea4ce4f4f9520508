//! Bounded, trimmed, printable text: names, addresses, notes.

use crate::error::{Field, ValidationError};

/// Trims `raw` and checks it is non-empty, at most `max` characters, and free of control
/// characters (line breaks are allowed only where `multiline`).
fn parse_text(
    raw: &str,
    field: Field,
    max: usize,
    multiline: bool,
) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::Required { field });
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ValidationError::ControlCharacters { field });
    }
    Ok(trimmed.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, multiline = $multi:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Parses a value for `field`; the text is trimmed.
            pub fn parse_for(raw: &str, field: Field) -> Result<Self, ValidationError> {
                parse_text(raw, field, $max, $multi).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse_for(&raw, Self::DEFAULT_FIELD)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// A facility's name in one language.
    Name, max = 100, multiline = false
);
bounded_text!(
    /// A street address.
    Address, max = 200, multiline = false
);
bounded_text!(
    /// The name of a township or village.
    AreaName, max = 60, multiline = false
);
bounded_text!(
    /// Free text from a person: a reason, a note.
    Note, max = 500, multiline = true
);

impl Name {
    const DEFAULT_FIELD: Field = Field::Name;
}
impl Address {
    const DEFAULT_FIELD: Field = Field::Address;
}
impl AreaName {
    const DEFAULT_FIELD: Field = Field::Township;
}
impl Note {
    const DEFAULT_FIELD: Field = Field::Note;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use crate::Lang;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse_for("  余姚市人民医院 ", Field::Name)
                .unwrap()
                .as_str(),
            "余姚市人民医院"
        );
        let err = Name::parse_for("   ", Field::Name).unwrap_err();
        assert_eq!(err.code(), "required");
        assert_eq!(err.message(Lang::Zh), "请填写名称");
        assert_eq!(err.message(Lang::En), "The name is required");
        let long = "院".repeat(101);
        assert_eq!(
            Name::parse_for(&long, Field::Name).unwrap_err().code(),
            "too_long"
        );
        assert_eq!(
            Name::parse_for("a\u{7}b", Field::Name).unwrap_err().code(),
            "control_characters"
        );
    }

    #[test]
    fn notes_may_span_lines_names_may_not() {
        assert!(Note::parse_for("第一行\n第二行", Field::Note).is_ok());
        assert!(Name::parse_for("第一行\n第二行", Field::Name).is_err());
    }

    #[test]
    fn serde_refuses_invalid_text() {
        let err = serde_json::from_str::<Name>("\"  \"").unwrap_err();
        assert!(err.to_string().contains("请填写名称"), "{err}");
    }

    proptest! {
        #[test]
        fn any_accepted_name_round_trips_through_json(raw in "\\PC{0,120}") {
            if let Ok(name) = Name::parse_for(&raw, Field::Name) {
                let json = serde_json::to_string(&name).unwrap();
                let back: Name = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&back, &name);
                prop_assert_eq!(back.as_str(), raw.trim());
            }
        }

        #[test]
        fn parsing_is_idempotent(raw in "\\PC{0,120}") {
            if let Ok(name) = Name::parse_for(&raw, Field::Name) {
                prop_assert_eq!(Name::parse_for(name.as_str(), Field::Name).unwrap(), name);
            }
        }
    }
}
