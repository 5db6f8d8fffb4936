//! The process's open-file limit, which bounds how many connections it can hold: the
//! default connection limit is derived from it.

/// The most client connections by default, whatever the open-file limit.
const MOST_CONNECTIONS: u32 = 10_000;

/// Files kept for everything but client connections (listener, logs, issuer, DNS).
const RESERVED_FILES: u64 = 64;

/// The default for `max_connections`: 10 000, or, when the open-file limit is known and
/// lower, half of what it leaves after a reserve (each client connection may need a
/// second descriptor to its upstream).
pub(crate) fn default_max_connections() -> u32 {
    connections_for(open_files_limit())
}

fn connections_for(limit: Option<u64>) -> u32 {
    match limit {
        Some(limit) => {
            let fit = limit.saturating_sub(RESERVED_FILES) / 2;
            u32::try_from(fit)
                .unwrap_or(u32::MAX)
                .clamp(1, MOST_CONNECTIONS)
        }
        None => MOST_CONNECTIONS,
    }
}

/// The soft limit on open files, where the platform tells (Linux: `/proc/self/limits`);
/// `None` when unknown or unlimited.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    soft_open_files(&limits)
}

fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units
Max processes             96369                96369                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
";

    #[test]
    fn the_soft_limit_is_read_from_proc_self_limits() {
        assert_eq!(soft_open_files(LIMITS), Some(1024));
        assert_eq!(soft_open_files(&LIMITS.replace("1024 ", "unlimited")), None);
        assert_eq!(soft_open_files("garbage"), None);
    }

    #[test]
    fn the_default_fits_the_limit_and_never_exceeds_ten_thousand() {
        assert_eq!(connections_for(Some(1024)), 480);
        assert_eq!(connections_for(Some(1_048_576)), 10_000);
        assert_eq!(connections_for(Some(10)), 1);
        assert_eq!(connections_for(None), 10_000);
    }
}
