//! Phases of a long task, announced with the time since it started (`== [3:07] clippy`)
//! so a first run that builds for twenty minutes on two cores is seen working, and
//! summed up at the end: where the time went.

use std::time::{Duration, Instant};

/// The phases so far and when each began.
pub struct Timeline {
    started: Instant,
    current: Option<(String, Instant)>,
    done: Vec<(String, Duration)>,
}

impl Timeline {
    pub fn start() -> Timeline {
        Timeline {
            started: Instant::now(),
            current: None,
            done: Vec::new(),
        }
    }

    /// Ends the current phase and announces the next.
    pub fn phase(&mut self, name: &str) {
        self.end();
        println!("\n== [{}] {name}", clock(self.started.elapsed()));
        self.current = Some((name.to_owned(), Instant::now()));
    }

    /// Ends the current phase, if any.
    pub fn end(&mut self) {
        if let Some((name, began)) = self.current.take() {
            self.done.push((name, began.elapsed()));
        }
    }

    /// The time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// One line per finished phase and the total.
    pub fn summary(&self) -> String {
        let width = self
            .done
            .iter()
            .map(|(name, _)| name.chars().count())
            .max()
            .unwrap_or(0);
        let mut lines: Vec<String> = self
            .done
            .iter()
            .map(|(name, took)| format!("  {name:<width$}  {:>6}", clock(*took)))
            .collect();
        lines.push(format!(
            "  {:<width$}  {:>6}",
            "total",
            clock(self.started.elapsed())
        ));
        lines.join("\n")
    }
}

/// `m:ss`, or `h:mm:ss` past an hour.
pub fn clock(took: Duration) -> String {
    let seconds = took.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_a_clock() {
        assert_eq!(clock(Duration::from_millis(900)), "0:00");
        assert_eq!(clock(Duration::from_secs(187)), "3:07");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
    }

    #[test]
    fn every_finished_phase_is_summed_up() {
        let mut timeline = Timeline::start();
        timeline.phase("fmt");
        timeline.phase("clippy");
        timeline.end();
        let summary = timeline.summary();
        let names: Vec<&str> = summary
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        assert_eq!(names, ["fmt", "clippy", "total"]);
    }
}
