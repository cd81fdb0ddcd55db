//! Login attempts per account name: after `LIMIT` failures within
//! `WINDOW`, further attempts for that name are refused until the window
//! has passed, so passwords cannot be guessed at speed. In memory, per
//! server process: a restart forgets, which only ever lets a user back in.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);

static FAILURES: LazyLock<Mutex<HashMap<String, Vec<Instant>>>> = LazyLock::new(Default::default);

/// `Err(wait)` while `name` is locked out.
pub fn check(name: &str) -> Result<(), Duration> {
    let Ok(mut failures) = FAILURES.lock() else {
        return Ok(());
    };
    let now = Instant::now();
    let recent = failures.entry(name.to_string()).or_default();
    recent.retain(|t| now.duration_since(*t) < WINDOW);
    if recent.len() >= LIMIT {
        Err(WINDOW - now.duration_since(recent[0]))
    } else {
        Ok(())
    }
}

pub fn failed(name: &str) {
    if let Ok(mut failures) = FAILURES.lock() {
        failures
            .entry(name.to_string())
            .or_default()
            .push(Instant::now());
    }
}

pub fn succeeded(name: &str) {
    if let Ok(mut failures) = FAILURES.lock() {
        failures.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_name_and_a_success_clears_it() {
        let name = "throttle-test-user";
        for _ in 0..LIMIT {
            assert!(check(name).is_ok());
            failed(name);
        }
        let wait = check(name).unwrap_err();
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(60));
        assert!(check("someone-else").is_ok());
        succeeded(name);
        assert!(check(name).is_ok());
    }
}
