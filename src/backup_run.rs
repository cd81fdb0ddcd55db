//! `lockstep backup run --service S -- CMD…`: a backup recorded as it is
//! made. The command runs with this process's standard streams; when it
//! succeeds the backup is recorded at the time it started (what it holds
//! is at least that recent), and when it fails nothing is recorded and its
//! exit status is ours.

use chrono::Utc;

use crate::collect::Client;

/// The process's exit status.
pub async fn run(
    service: &str,
    lockstep: &str,
    token: &str,
    label: Option<&str>,
    command: &[String],
) -> anyhow::Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("give the backup command after --"))?;
    let started = Utc::now();
    let status = tokio::process::Command::new(program)
        .args(args)
        .status()
        .await
        .map_err(|error| anyhow::anyhow!("cannot run {program:?}: {error}"))?;
    if !status.success() {
        let code = status.code().unwrap_or(1);
        tracing::error!(%service, code, "the backup command failed; no backup recorded");
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
