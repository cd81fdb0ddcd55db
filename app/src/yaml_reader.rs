//! Reads YAML (and JSON, which YAML 1.2 contains) into our types by hand,
//! so that a rejected document lists *every* problem with its line and
//! field rather than stopping at the first, as serde would.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::problem::Problem;

pub type Node<'a> = MarkedYaml<'a>;

/// Parses every document in `text`; a syntax error is one problem. An
/// error the parser meets at the end of the input is put on the last line
/// (it reports the line after it), so the line is always one of the text's.
pub fn load(text: &str) -> Result<Vec<Node<'_>>, Problem> {
    MarkedYaml::load_from_str(text).map_err(|error| {
        // YAML line breaks: \n, \r\n, or a lone \r.
        let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
        Problem::new(
            Some(error.marker().line().clamp(1, lines)),
            "",
            format!("malformed YAML: {}", error.info()),
        )
    })
}

pub fn line(node: &Node<'_>) -> Option<usize> {
    Some(node.span.start.line())
}

/// Collects problems as a document is read.
#[derive(Default)]
pub struct Reader {
    pub problems: Vec<Problem>,
}

impl Reader {
    pub fn report(&mut self, node: &Node<'_>, field: &str, message: impl Into<String>) {
        self.problems.push(Problem::new(line(node), field, message));
    }

    /// A mapping's entries by key, to be taken one by one; see [`Fields::finish`].
    pub fn mapping<'n, 'a>(&mut self, node: &'n Node<'a>, field: &str) -> Option<Fields<'n, 'a>> {
        let YamlData::Mapping(map) = &node.data else {
            self.report(
                node,
                field,
                format!("expected a mapping, found {}", kind(node)),
            );
            return None;
        };
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            match scalar_text(key) {
                Some(name) => entries.push((name, value)),
                None => self.report(key, field, "keys must be plain strings"),
            }
        }
        Some(Fields {
            path: field.to_string(),
            entries,
        })
    }

    pub fn sequence<'n, 'a>(&mut self, node: &'n Node<'a>, field: &str) -> Option<&'n [Node<'a>]> {
        match &node.data {
            YamlData::Sequence(items) => Some(items),
            YamlData::Value(Scalar::Null) => Some(&[]),
            _ => {
                self.report(
                    node,
                    field,
                    format!("expected a list, found {}", kind(node)),
                );
                None
            }
        }
    }

    pub fn string(&mut self, node: &Node<'_>, field: &str) -> Option<String> {
        match &node.data {
            YamlData::Value(Scalar::String(text)) => Some(text.to_string()),
            YamlData::Representation(text, ..) => Some(text.to_string()),
            _ => {
                self.report(
                    node,
                    field,
                    format!("expected a string, found {}", kind(node)),
                );
                None
            }
        }
    }

    /// A string, or nothing when the value is null or blank.
    pub fn optional_string(&mut self, node: Option<&Node<'_>>, field: &str) -> Option<String> {
        let node = node.filter(|n| !is_null(n))?;
        self.string(node, field).filter(|s| !s.trim().is_empty())
    }

    pub fn boolean(&mut self, node: &Node<'_>, field: &str) -> Option<bool> {
        match &node.data {
            YamlData::Value(Scalar::Boolean(value)) => Some(*value),
            _ => {
                self.report(
                    node,
                    field,
                    format!("expected true or false, found {}", kind(node)),
                );
                None
            }
        }
    }

    pub fn integer(&mut self, node: &Node<'_>, field: &str) -> Option<i64> {
        match &node.data {
            YamlData::Value(Scalar::Integer(value)) => Some(*value),
            _ => {
                self.report(
                    node,
                    field,
                    format!("expected an integer, found {}", kind(node)),
                );
                None
            }
        }
    }

    /// `24h`, `1h30m`, `90s`, or a number of seconds; never negative.
    pub fn duration(&mut self, node: Option<&Node<'_>>, field: &str) -> Option<i64> {
        let node = node.filter(|n| !is_null(n))?;
        let seconds = match &node.data {
            YamlData::Value(Scalar::Integer(_)) => self.integer(node, field),
            _ => {
                let text = self.string(node, field)?;
                let parsed = crate::topology::model::parse_duration(&text);
                if parsed.is_none() {
                    self.report(node, field, format!("{text:?} is not a duration: write e.g. 24h, 1h30m, 90s or a number of seconds"));
                }
                parsed
            }
        }?;
        if seconds < 0 {
            self.report(node, field, "must not be negative");
            return None;
        }
        Some(seconds)
    }

    /// One word of a closed vocabulary; the message lists the accepted ones.
    pub fn choice<T>(
        &mut self,
        node: Option<&Node<'_>>,
        field: &str,
        parse: fn(&str) -> Option<T>,
        choices: fn() -> String,
    ) -> Option<T> {
        let node = node.filter(|n| !is_null(n))?;
        let text = self.string(node, field)?;
        let value = parse(&text);
        if value.is_none() {
            self.report(
                node,
                field,
                format!("unknown value {text:?}: expected {}", choices()),
            );
        }
        value
    }
}

/// The entries of one mapping. Taking a key marks it known; `finish`
/// reports every key nobody took, so typos do not pass silently.
pub struct Fields<'n, 'a> {
    path: String,
    entries: Vec<(String, &'n Node<'a>)>,
}

impl<'n, 'a> Fields<'n, 'a> {
    pub fn take(&mut self, key: &str) -> Option<&'n Node<'a>> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(at).1)
    }

    /// The path of a field of this mapping, for problems.
    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn finish(self, reader: &mut Reader, known: &[&str]) {
        for (key, node) in self.entries {
            let field = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            reader.report(
                node,
                &field,
                format!(
                    "unknown field {key:?}: expected one of {}",
                    known.join(", ")
                ),
            );
        }
    }
}

pub fn is_null(node: &Node<'_>) -> bool {
    matches!(node.data, YamlData::Value(Scalar::Null))
}

fn scalar_text(node: &Node<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(text)) => Some(text.to_string()),
        YamlData::Representation(text, ..) => Some(text.to_string()),
        _ => None,
    }
}

fn kind(node: &Node<'_>) -> &'static str {
    match &node.data {
        YamlData::Value(Scalar::Null) => "nothing",
        YamlData::Value(Scalar::Boolean(_)) => "a boolean",
        YamlData::Value(Scalar::Integer(_)) => "an integer",
        YamlData::Value(Scalar::FloatingPoint(_)) => "a number",
        YamlData::Value(Scalar::String(_)) | YamlData::Representation(..) => "a string",
        YamlData::Sequence(_) => "a list",
        YamlData::Mapping(_) => "a mapping",
        YamlData::Alias(_) => "an alias",
        YamlData::Tagged(..) => "a tagged value",
        YamlData::BadValue => "an invalid value",
    }
}
