//! A service's epochs (spec §5b): where an event of a given epoch and time
//! falls on the service's timeline. A recorded restore to a backup taken at
//! `t_b`, back at `restored_at`, opens a new epoch at `restored_at`; the old
//! epoch's writes after `t_b` are the lost branch. A write of a new epoch
//! keeps its own timestamp, but holds only from its epoch's start.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::ServiceRef;
use crate::error::AppError;
use crate::problem::Problem;

/// One recorded restore, as the timeline needs it.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct Restore {
    /// The epoch it opened.
    pub epoch: i32,
    pub backup_taken_at: DateTime<Utc>,
    pub restored_at: DateTime<Utc>,
}

/// The service's current epoch and the restores that opened each of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub current: i32,
    /// In epoch order; empty for a service never restored.
    pub restores: Vec<Restore>,
}

/// Where one write goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub epoch: i32,
    /// History of a lost branch: kept, never current.
    pub lost: bool,
    /// Its position on the timeline: the write's time, or its epoch's start
    /// when that is later.
    pub position: DateTime<Utc>,
}

/// An epoch the service has not reached yet is the caller's mistake.
pub fn newer_epoch(service: ServiceRef, line: usize, epoch: i32) -> Option<Problem> {
    (epoch > service.epoch).then(|| {
        Problem::new(
            Some(line),
            "epoch",
            format!(
                "epoch {epoch} is newer than the service's current epoch {}",
                service.epoch
            ),
        )
    })
}

impl Timeline {
    /// Reads the restores only of a service that had one.
    pub async fn of(conn: &mut PgConnection, service: ServiceRef) -> Result<Self, AppError> {
        let restores = if service.epoch == 0 {
            Vec::new()
        } else {
            sqlx::query_as::<_, Restore>(
                "select epoch, backup_taken_at, restored_at from restore
                 where service_id = $1 and not drill order by epoch",
            )
            .bind(service.service_id)
            .fetch_all(conn)
            .await?
        };
        Ok(Timeline {
            current: service.epoch,
            restores,
        })
    }

    /// When the current epoch began (none before the first restore).
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.restores
            .iter()
            .find(|r| r.epoch == self.current)
            .map(|r| r.restored_at)
    }

    /// Places a write of `epoch` (the current one when absent) at `at`.
    pub fn place(&self, epoch: Option<i32>, at: DateTime<Utc>) -> Placement {
        let epoch = epoch.unwrap_or(self.current);
        let start = self
            .restores
            .iter()
            .find(|r| r.epoch == epoch)
            .map(|r| r.restored_at);
        let position = start.map_or(at, |start| at.max(start));
        // Every later restore that went back to before this write lost it:
        // the one that closed its epoch lost all that came after its backup,
        // a later one what its own rollback covered.
        let lost = self.restores.iter().any(|r| {
            r.epoch > epoch
                && position > r.backup_taken_at
                && (r.epoch == epoch + 1 || position <= r.restored_at)
        });
        Placement {
            epoch,
            lost,
            position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        format!("2026-11-01T{hour:02}:00:00Z").parse().unwrap()
    }

    /// Restored at 15:00 to a 12:00 backup (epoch 1), then at 20:00 to an
    /// 17:00 backup (epoch 2).
    fn twice_restored() -> Timeline {
        Timeline {
            current: 2,
            restores: vec![
                Restore {
                    epoch: 1,
                    backup_taken_at: at(12),
                    restored_at: at(15),
                },
                Restore {
                    epoch: 2,
                    backup_taken_at: at(17),
                    restored_at: at(20),
                },
            ],
        }
    }

    #[test]
    fn old_epoch_writes_after_the_backup_are_lost() {
        let timeline = twice_restored();
        assert!(!timeline.place(Some(0), at(11)).lost);
        assert!(timeline.place(Some(0), at(13)).lost);
        assert!(timeline.place(Some(0), at(16)).lost);
        assert!(!timeline.place(Some(1), at(16)).lost);
        assert!(timeline.place(Some(1), at(18)).lost);
        assert!(!timeline.place(None, at(18)).lost);
    }

    #[test]
    fn a_re_applied_write_holds_from_its_epochs_start() {
        let timeline = twice_restored();
        let placed = timeline.place(None, at(13));
        assert_eq!(
            (placed.epoch, placed.lost, placed.position),
            (2, false, at(20))
        );
        assert_eq!(timeline.place(Some(1), at(9)).position, at(15));
        assert_eq!(timeline.place(Some(0), at(9)).position, at(9));
    }

    #[test]
    fn an_epoch_not_reached_yet_is_named_with_its_line() {
        let service = ServiceRef {
            service_id: 1,
            epoch: 2,
        };
        assert!(newer_epoch(service, 4, 2).is_none());
        let problem = newer_epoch(service, 4, 3).unwrap();
        assert_eq!((problem.line, problem.field.as_str()), (Some(4), "epoch"));
    }
}
