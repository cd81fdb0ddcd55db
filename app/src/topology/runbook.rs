//! The runbook of a lockstep group, as Markdown an on-call engineer can
//! follow: how to take a consistent backup of the group and how to restore
//! it, from the coordinated-backup practice the spec rests on.

use std::fmt::Write;

use super::model::{
    format_duration, BackupMethod, Datastore, LockstepGroup, SharedBackup, Topology,
};

pub fn markdown(group: &LockstepGroup, topology: &Topology) -> String {
    let members: Vec<_> = topology
        .services
        .iter()
        .filter(|s| group.services.contains(&s.name))
        .collect();
    let mut md = String::new();
    let names = group.services.join(", ");
    let _ = writeln!(md, "# Runbook: lockstep group {names}\n");
    if group.services.len() == 1 {
        let _ = writeln!(
            md,
            "`{names}` shares no required, uncached reference with another service: its own backup \
             schedule is consistent by itself. Restoring it still leaves findings across its \
             tolerated relations; record the restore in Lockstep to get the reconciliation queue.\n"
        );
    } else {
        let _ = writeln!(
            md,
            "These {} services hold required references to each other that no member caches \
             ({}). Backed up independently, a restore of one member would leave broken links in \
             the others. They must be backed up **and restored** together.\n",
            group.services.len(),
            group.relations.join(", ")
        );
    }

    let _ = writeln!(md, "## Members\n");
    let _ = writeln!(
        md,
        "| service | team | datastore | backup method | typical backup duration |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
    for s in &members {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            s.name,
            s.team.as_deref().unwrap_or("—"),
            s.datastore.map_or("—".into(), |d| d.to_string()),
            s.backup
                .method
                .map_or("unspecified".into(), |m| m.to_string()),
            s.backup
                .duration_s
                .map_or("unknown".into(), format_duration),
        );
    }
    let _ = writeln!(md);

    if group.services.len() > 1 {
        let _ = writeln!(md, "## The price of consistency\n");
        let _ = writeln!(
            md,
            "A coordinated backup freezes writes to every member for as long as the slowest \
             backup takes: **{}**{}. During that window the group is unavailable for writes.\n",
            format_duration(group.backup_window_s),
            group
                .slowest
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        write_backup_options(&mut md, group, &members);
        write_restore(&mut md, &members);
    }

    let _ = writeln!(md, "## Drill before you need it\n");
    let _ = writeln!(
        md,
        "- Run a restore drill of every member at least once a quarter: \
         `POST /api/v1/services/<service>/restores` with `\"drill\": true` computes what a \
         restore would break without changing anything.\n\
         - Check that each member's backup finishes within the window above; a member that \
         grows slower widens the write freeze for all.\n\
         - Keep this runbook with the backups: it is generated from the model in Lockstep and \
         changes when the model does."
    );
    md
}

fn write_backup_options(
    md: &mut String,
    group: &LockstepGroup,
    members: &[&super::model::Service],
) {
    let _ = writeln!(md, "## Taking a consistent backup\n");
    let _ = writeln!(md, "### Option 1: coordinated write freeze\n");
    let _ = writeln!(
        md,
        "1. Announce the freeze window ({}).\n\
         2. Stop writes to every member: switch each service to read-only (or stop its consumers) \
         and wait until in-flight writes have drained.\n\
         3. Back up every member: {}.\n\
         4. Label the backups with one shared backup-set id and record each in Lockstep \
         (`POST /api/v1/services/<service>/backups`).\n\
         5. Lift the freeze on every member.\n",
        format_duration(group.backup_window_s),
        members
            .iter()
            .map(|s| format!(
                "`{}` ({})",
                s.name,
                s.backup
                    .method
                    .map_or("its usual method".into(), |m| m.to_string())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(md, "### Option 2: one point in time for all\n");
    if group.shared_method == SharedBackup::CommonPitr {
        let _ = writeln!(md, "Every member supports point-in-time recovery, so no freeze is needed to *take* backups: consistency comes at restore time, by choosing one timestamp T for all.\n");
    } else {
        let not_pitr: Vec<_> = members
            .iter()
            .filter(|s| s.backup.method != Some(BackupMethod::Pitr))
            .map(|s| s.name.as_str())
            .collect();
        let _ = writeln!(
            md,
            "Possible once every member supports point-in-time recovery; today {} {} not. \
             Until then, use option 1.\n",
            not_pitr.join(", "),
            if not_pitr.len() == 1 { "does" } else { "do" }
        );
    }
}

fn write_restore(md: &mut String, members: &[&super::model::Service]) {
    let _ = writeln!(md, "## Restoring the group\n");
    let _ = writeln!(
        md,
        "Never restore one member alone. Pick one backup set (option 1) or one timestamp T \
         (option 2), then:\n"
    );
    for (i, s) in members.iter().enumerate() {
        let how = match (s.datastore, s.backup.method) {
            (Some(Datastore::S3), _) => "restore every object to its latest version written at or before T (object versioning)".to_string(),
            (_, Some(BackupMethod::Pitr)) => "point-in-time recovery to T".to_string(),
            (_, Some(method)) => format!("restore the backup of the set ({method})"),
            (_, None) => "restore the backup of the set".to_string(),
        };
        let _ = writeln!(md, "{}. `{}`: {how}.", i + 1, s.name);
    }
    let _ = writeln!(
        md,
        "{}. Record each member's restore in Lockstep (`POST /api/v1/services/<service>/restores`) \
         and work the reconciliation queue for the tolerated relations that cross the group's edge.\n",
        members.len() + 1
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{document, groups::lockstep_groups};

    #[test]
    fn a_group_runbook_names_its_members_its_window_and_both_options() {
        let topology = document::parse(
            "services:\n  - { name: orders, backup: { method: pitr, duration: 20m } }\n  - { name: media, datastore: s3, backup: { method: volume-snapshot, duration: 40m } }\nrelations:\n  - { name: order.image, from: orders, to: media }\n",
        )
        .unwrap();
        let groups = lockstep_groups(&topology);
        let md = markdown(&groups[0], &topology);
        assert!(md.starts_with("# Runbook: lockstep group media, orders"));
        assert!(md.contains("**40m** (media)"), "{md}");
        assert!(md.contains("### Option 1: coordinated write freeze"));
        assert!(md.contains("today media does not"), "{md}");
        assert!(md.contains("latest version written at or before T"));
        assert!(md.contains("drill"));
    }
}
