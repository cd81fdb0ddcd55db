//! Progress of the restores and drills this server is computing, for the
//! restore page to show while it waits: one entry per service (a service is
//! restored one at a time — the engine locks its row), removed when the
//! computation ends, however it ends.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use super::model::{RestoreProgress, StepTime};

static RUNNING: LazyLock<Mutex<HashMap<String, Running>>> = LazyLock::new(Default::default);

struct Running {
    progress: RestoreProgress,
    started: Instant,
}

/// The progress of the computation running for `service`, if any.
pub fn of(service: &str) -> Option<RestoreProgress> {
    let running = RUNNING.lock().ok()?;
    running.get(service).map(|r| RestoreProgress {
        elapsed_ms: r.started.elapsed().as_millis() as u64,
        ..r.progress.clone()
    })
}

/// Reports one computation's steps as it goes, and keeps how long each took.
pub struct Tracker {
    service: String,
    steps: Vec<StepTime>,
    current: Option<(String, Instant)>,
}

impl Tracker {
    pub fn start(service: &str, drill: bool, total_steps: u32) -> Self {
        if let Ok(mut running) = RUNNING.lock() {
            running.insert(
                service.to_string(),
                Running {
                    progress: RestoreProgress {
                        drill,
                        step: 0,
                        steps: total_steps,
                        label: "Starting".into(),
                        elapsed_ms: 0,
                    },
                    started: Instant::now(),
                },
            );
        }
        Self {
            service: service.to_string(),
            steps: Vec::new(),
            current: None,
        }
    }

    /// Ends the current step (if any) and starts the next.
    pub fn step(&mut self, label: impl Into<String>) {
        self.finish_step();
        let label = label.into();
        if let Ok(mut running) = RUNNING.lock() {
            if let Some(r) = running.get_mut(&self.service) {
                r.progress.step += 1;
                r.progress.label = label.clone();
            }
        }
        self.current = Some((label, Instant::now()));
    }

    /// The steps so far, each with its duration.
    pub fn finish(mut self) -> Vec<StepTime> {
        self.finish_step();
        std::mem::take(&mut self.steps)
    }

    fn finish_step(&mut self) {
        if let Some((label, started)) = self.current.take() {
            self.steps.push(StepTime {
                label,
                ms: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.remove(&self.service);
        }
    }
}
