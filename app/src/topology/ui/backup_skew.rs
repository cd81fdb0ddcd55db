//! A lockstep group's members' newest backups on one time axis. The group
//! promises one consistent moment (a coordinated freeze, or a common
//! point-in-time): members whose backups lie further apart than the
//! group's freeze window cannot be restored together, and the group is
//! flagged.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::topology::model::{format_duration, LockstepGroup};

/// How far apart backups may be and still count as one moment: the freeze
/// window, and never less than a minute (clocks and schedulers jitter).
pub fn tolerance_s(group: &LockstepGroup) -> i64 {
    group.backup_window_s.max(60)
}

/// The spread between the oldest and the newest member backup, and the
/// members without any; None when no member has a backup.
pub fn skew(
    group: &LockstepGroup,
    latest: &BTreeMap<String, DateTime<Utc>>,
) -> Option<(i64, Vec<String>)> {
    let times: Vec<DateTime<Utc>> = group
        .services
        .iter()
        .filter_map(|s| latest.get(s).copied())
        .collect();
    let (first, last) = (times.iter().min()?, times.iter().max()?);
    let missing = group
        .services
        .iter()
        .filter(|s| !latest.contains_key(*s))
        .cloned()
        .collect();
    Some(((*last - *first).num_seconds(), missing))
}

/// The picture, for a group of several members with at least one backup.
pub fn backup_skew(
    group: &LockstepGroup,
    latest: &BTreeMap<String, DateTime<Utc>>,
) -> Option<impl IntoView> {
    if group.services.len() < 2 {
        return None;
    }
    let (spread, missing) = skew(group, latest)?;
    let flagged = spread > tolerance_s(group) || !missing.is_empty();
    let members: Vec<(String, DateTime<Utc>)> = group
        .services
        .iter()
        .filter_map(|s| latest.get(s).map(|t| (s.clone(), *t)))
        .collect();
    let first = members.iter().map(|(_, t)| *t).min()?;
    let span = spread.max(1) as f64;
    let x = |t: DateTime<Utc>| 90.0 + 200.0 * (t - first).num_seconds() as f64 / span;
    let height = 14 * members.len() + 6;
    let verdict = if flagged {
        let mut why = Vec::new();
        if spread > tolerance_s(group) {
            why.push(format!(
                "the newest backups are {} apart, more than the {} the group can freeze for",
                format_duration(spread),
                format_duration(tolerance_s(group))
            ));
        }
        if !missing.is_empty() {
            why.push(format!("no backup recorded of {}", missing.join(", ")));
        }
        format!("Not one consistent moment: {}.", why.join("; "))
    } else {
        format!(
            "The newest backups are one moment ({} apart).",
            format_duration(spread)
        )
    };
    let label = verdict.clone();
    Some(view! {
        <figure data-testid="backup-skew" data-flagged=flagged.to_string() class="mt-3">
            <svg viewBox=format!("0 0 300 {height}") class="w-full" role="img" aria-label=label>
                {members.into_iter().enumerate().map(|(i, (name, t))| {
                    let y = 10 + 14 * i;
                    view! {
                        <g>
                            <text x="0" y=y + 3 font-size="9" fill="currentColor">{name}</text>
                            <line x1="90" y1=y x2="290" y2=y stroke="currentColor" stroke-opacity="0.15" />
                            <circle cx=x(t) cy=y r="4" fill=if flagged { "#dc2626" } else { "#059669" } />
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class=if flagged { "text-xs text-red-700 dark:text-red-400" } else { "text-xs text-slate-600 dark:text-slate-400" }>
                {verdict}
            </figcaption>
        </figure>
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::model::SharedBackup;

    fn group(services: &[&str], window: i64) -> LockstepGroup {
        LockstepGroup {
            id: services[0].into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            backup_window_s: window,
            slowest: None,
            shared_method: SharedBackup::CoordinatedFreeze,
            relations: Vec::new(),
        }
    }

    #[test]
    fn the_spread_of_the_newest_backups_and_who_has_none() {
        let t = |h: i64| {
            "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::hours(h)
        };
        let latest: BTreeMap<String, DateTime<Utc>> =
            [("a".to_string(), t(1)), ("b".to_string(), t(4))].into();
        let g = group(&["a", "b", "c"], 600);
        assert_eq!(skew(&g, &latest), Some((3 * 3600, vec!["c".to_string()])));
        assert_eq!(skew(&group(&["c"], 600), &latest), None);
        assert!(3 * 3600 > tolerance_s(&g));
        assert_eq!(tolerance_s(&group(&["a"], 5)), 60);
    }
}
