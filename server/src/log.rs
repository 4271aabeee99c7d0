//! The server's log lines. Standard output carries the start-up banner and
//! standard error everything after it; a closed or full pipe on either
//! (a log reader that went away) must never stop the server, so these
//! macros drop write errors instead of panicking as `println!` does.

/// A line on standard error; write errors are ignored.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A line on standard output (the banner); write errors are ignored.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}
