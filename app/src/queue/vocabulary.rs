//! The finding vocabulary of spec §5 and §6 — kinds, statuses, strategies —
//! as enums shared by the server and the browser, each serialised by its
//! wire name (the API's JSON, the database's text, the page's URL).

use serde::{Deserialize, Serialize};

/// An enum of wire names: `ALL` in the dashboard's order, `as_str`,
/// `parse`, `Display`, and reading from the database's text (an unknown
/// name there is an error, never a default).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        // The wire names are the variants' in snake case (the round-trip
        // test holds `$wire` to it): an attribute the OpenAPI derive reads
        // too, where a per-variant rename from a macro argument is lost.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every wire name, for messages: `a, b, c`.
            pub fn names() -> String {
                [$($wire),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<$name, String> {
                $name::parse(&text).ok_or_else(|| {
                    format!("unknown {} {text:?}: one of {}", stringify!($name), $name::names())
                })
            }
        }
    };
}

wire_enum! {
    /// What a finding says is wrong (spec §5).
    FindingKind {
        BrokenLink = "broken_link",
        StaleReference = "stale_reference",
        OrphanCandidate = "orphan_candidate",
        MissingState = "missing_state",
        /// Raised by the integrity scan, never by a restore.
        DanglingDelete = "dangling_delete",
    }
}

wire_enum! {
    /// Where a finding is in its life.
    FindingStatus {
        Open = "open",
        Claimed = "claimed",
        Resolved = "resolved",
        Accepted = "accepted",
        Dismissed = "dismissed",
    }
}

wire_enum! {
    /// How a finding is (to be) repaired.
    Strategy {
        Reconstruct = "reconstruct",
        Ignore = "ignore",
        Cache = "cache",
        Replay = "replay",
        Decide = "decide",
    }
}

impl FindingKind {
    /// The kinds a restore (or a drill) raises, in the dashboard's order.
    pub const OF_RESTORES: [FindingKind; 4] = [
        FindingKind::BrokenLink,
        FindingKind::StaleReference,
        FindingKind::OrphanCandidate,
        FindingKind::MissingState,
    ];

    /// How the dashboard names a kind (plural, as its counts read).
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::BrokenLink => "Broken links",
            FindingKind::StaleReference => "Stale references",
            FindingKind::OrphanCandidate => "Orphan candidates",
            FindingKind::MissingState => "Missing state",
            FindingKind::DanglingDelete => "Dangling deletes",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_json_and_text() {
        for kind in FindingKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<FindingKind>(&json).unwrap(), *kind);
            assert_eq!(FindingKind::try_from(kind.to_string()), Ok(*kind));
        }
        assert_eq!(
            FindingStatus::parse("claimed"),
            Some(FindingStatus::Claimed)
        );
        assert_eq!(
            Strategy::try_from("rebuild".to_string()),
            Err(
                "unknown Strategy \"rebuild\": one of reconstruct, ignore, cache, replay, decide"
                    .into()
            )
        );
    }
}
