//! `lockstep backup run --service S -- CMD…`: a backup recorded as it is
//! made. The command runs with this process's standard streams; when it
//! succeeds the backup is recorded at the time it started (what it holds
//! is at least that recent), and when it fails nothing is recorded and its
//! exit status is ours.

use chrono::{DateTime, Utc};

use crate::collect::Client;

/// The process's exit status.
pub async fn run(
    service: &str,
    lockstep: &str,
    token: &str,
    label: Option<&str>,
    command: &[String],
) -> anyhow::Result<i32> {
    let Some(started) = run_command(service, command).await? else {
        return Ok(1);
    };
    let (started, code) = started;
    if code != 0 {
        return Ok(code);
    }
    let label = label
        .map(str::to_string)
        .unwrap_or_else(|| command.join(" "));
    let id = Client::new(lockstep, token)
        .record_backup(service, started, Some(&label))
        .await
        .map_err(|error| {
            anyhow::anyhow!("the backup was made but Lockstep did not record it: {error:#}")
        })?;
    println!("{id}");
    tracing::info!(%service, backup = id, taken_at = %started, "backup recorded");
    Ok(0)
}

/// Runs the backup command; when it started, and its exit status (a
/// failure is logged: no backup may be recorded for it). None when it was
/// ended by a signal.
pub async fn run_command(
    service: &str,
    command: &[String],
) -> anyhow::Result<Option<(DateTime<Utc>, i32)>> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("give the backup command after --"))?;
    let started = Utc::now();
    let status = tokio::process::Command::new(program)
        .args(args)
        .status()
        .await
        .map_err(|error| anyhow::anyhow!("cannot run {program:?}: {error}"))?;
    let Some(code) = status.code() else {
        tracing::error!(%service, %status, "the backup command was stopped; no backup recorded");
        return Ok(None);
    };
    if code != 0 {
        tracing::error!(%service, code, "the backup command failed; no backup recorded");
    }
    Ok(Some((started, code)))
}
