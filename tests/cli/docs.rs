//! The docs test: every fenced block of `README.md` and `docs/user/*.md`
//! is run or checked, page by page, in page order, against the real
//! binaries in a fresh directory. docs/dev/docs-test.md describes the
//! markup; in short, the info string after a fence's language says what a
//! block is:
//!
//! - `sh` (or `bash`): a shell block, run with `bash -e` (a failing command fails the block; a pipeline's status is its last command's, as in an interactive shell); every
//!   variable it sets is kept for the page's later blocks. `sh exit=N`: the
//!   last command must exit with N (the others may fail).
//! - `sh server`: a one-line command that starts a server, run in the
//!   background until the page ends (a later `server` block stops the
//!   earlier ones first, unless it says `server also`).
//! - `LANG file=NAME`: the block is a file the page's commands use.
//! - `text output` / `json output`: what the block before printed (stdout
//!   and stderr). Each shown line must appear, in order; `...` stands for
//!   any text within a line. JSON is compared without whitespace.
//! - `illustrative`, or `skip=REASON`: not run (a placeholder host, a
//!   command that builds). Every other block must say what it is.
//!
//! Ports: `HOST:80NN` in a page is replaced by a free port, the same one
//! for the same `NN`, and `OMNIGRAPH_BIND` points at the first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One fenced block.
#[derive(Debug)]
struct Block {
    line: usize,
    lang: String,
    attrs: Vec<String>,
    body: String,
}

impl Block {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| if a == key { Some("") } else { a.strip_prefix(&format!("{key}=")) })
    }
}

/// The fenced blocks of a Markdown page (``` fences, possibly indented
/// inside a list).
fn blocks(md: &str) -> Vec<Block> {
    // (line, indent, lang, attrs, body lines) of the block being read.
    type Open = (usize, usize, String, Vec<String>, Vec<String>);
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    for (i, line) in md.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = t.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(str::to_string);
                    let lang = words.next().unwrap_or_default();
                    open = Some((i + 1, indent, lang, words.collect(), Vec::new()));
                }
            }
            Some((start, ind, lang, attrs, lines)) => {
                if t == "```" {
                    let body = lines.join("\n") + "\n";
                    out.push(Block { line: *start, lang: std::mem::take(lang), attrs: std::mem::take(attrs), body });
                    open = None;
                } else {
                    let cut = (*ind).min(indent);
                    lines.push(line[cut..].to_string());
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed ``` fence");
    out
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_omnigraph")).parent().unwrap().to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Replaces `HOST:80NN` with the page's port for `NN`.
fn ports(text: &str, map: &mut HashMap<String, u16>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(":80") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let digits: String = after[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
        let host_ok = ["127.0.0.1", "localhost", "0.0.0.0"].iter().any(|h| before.ends_with(h));
        if host_ok && digits.len() == 4 {
            let port = *map.entry(digits.clone()).or_insert_with(free_port);
            out.push_str(&format!(":{port}"));
            rest = &after[1 + digits.len()..];
        } else {
            out.push(':');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `got` matches `pattern`, where `...` stands for any text.
fn wildcard(pattern: &str, got: &str) -> bool {
    let parts: Vec<&str> = pattern.split("...").collect();
    if parts.len() == 1 {
        return pattern == got;
    }
    let Some(mut rest) = got.strip_prefix(parts[0]) else { return false };
    for (i, part) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every non-empty line of `expected` matches a line of `got`, in order.
fn shows(expected: &str, got: &str, json: bool) -> Result<(), String> {
    if json {
        let (e, g): (String, String) = (expected.chars().filter(|c| !c.is_whitespace()).collect(), got.chars().filter(|c| !c.is_whitespace()).collect());
        // Each shown document must be in the output.
        return if wildcard(&format!("...{e}..."), &g) { Ok(()) } else { Err(format!("JSON not in the output: {}", expected.trim())) };
    }
    let mut lines = got.lines().map(squash);
    for want in expected.lines().map(squash).filter(|l| !l.is_empty()) {
        if !lines.any(|l| wildcard(&want, &l)) {
            return Err(format!("line not in the output (in order): {want}"));
        }
    }
    Ok(())
}

/// Waits for `child`; kills it if it is still running after `limit`.
/// Returns its status and whether it ended in time.
fn wait_or_kill(mut child: Child, limit: Duration) -> (std::process::ExitStatus, bool) {
    let pid = child.id().to_string();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let late = watch.recv_timeout(limit).is_err();
        if late {
            let _ = Command::new("kill").arg("-KILL").arg(&pid).status();
        }
        late
    });
    let status = child.wait().unwrap();
    let _ = done.send(());
    let late = watchdog.join().unwrap();
    (status, !late)
}

struct Page {
    name: String,
    work: tempfile::TempDir,
    ports: HashMap<String, u16>,
    servers: Vec<(Child, PathBuf)>,
    /// What the last run block printed.
    last: Option<(usize, String)>,
}

impl Page {
    fn new(name: &str) -> Page {
        let work = tempfile::tempdir().unwrap();
        // The repository's examples and built binaries, where pages expect them.
        for dir in ["examples", "scripts", "target"] {
            std::os::unix::fs::symlink(repo().join(dir), work.path().join(dir)).unwrap();
        }
        let mut ports = HashMap::new();
        ports.insert("8080".to_string(), free_port());
        Page { name: name.to_string(), work, ports, servers: Vec::new(), last: None }
    }

    fn env(&self, cmd: &mut Command) {
        let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OMNIGRAPH_")) {
            cmd.env_remove(k);
        }
        cmd.current_dir(self.work.path())
            .env("PATH", path)
            .env("OMNIGRAPH_BIND", format!("127.0.0.1:{}", self.ports["8080"]))
            .env("OMNIGRAPH_REFRESH_MS", "200")
            .stdin(Stdio::null());
    }

    fn fail(&self, b: &Block, why: &str) -> ! {
        panic!("{}:{}: {why}\n--- block ---\n{}", self.name, b.line, b.body)
    }

    fn run(&mut self, b: &Block, body: &str) {
        let expect = b.attr("exit").map(|n| n.parse::<i32>().unwrap_or_else(|_| self.fail(b, "exit=N needs a number")));
        let strict = if expect.is_none() { "set -e\n" } else { "" };
        let script = format!("set -a\n[ -f .docenv ] && . ./.docenv\ntrap 'export -p > .docenv' EXIT\n{strict}{body}");
        let out_path = self.work.path().join(".out");
        let out = std::fs::File::create(&out_path).unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(&script).stdout(out.try_clone().unwrap()).stderr(out);
        self.env(&mut cmd);
        let (status, in_time) = wait_or_kill(cmd.spawn().unwrap(), Duration::from_secs(180));
        if !in_time {
            self.fail(b, "still running after 180 s");
        }
        let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
        let code = status.code().unwrap_or(-1);
        match expect {
            None if code != 0 => self.fail(b, &format!("exited {code}\n--- output ---\n{printed}")),
            Some(n) if code != n => self.fail(b, &format!("exited {code}, the page says {n}\n--- output ---\n{printed}")),
            _ => {}
        }
        self.last = Some((b.line, printed));
    }

    fn start_server(&mut self, b: &Block, body: &str) {
        if b.attr("also").is_none() {
            self.stop_servers();
        }
        let command = body.trim();
        let n = self.servers.len();
        let log = self.work.path().join(format!(".server-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(format!("set -a\n[ -f .docenv ] && . ./.docenv\nexec {command}")).stdout(file.try_clone().unwrap()).stderr(file);
        self.env(&mut cmd);
        // Where it listens: its --bind, else OMNIGRAPH_BIND.
        let port = command
            .split_whitespace()
            .skip_while(|w| *w != "--bind")
            .nth(1)
            .and_then(|a| a.rsplit(':').next())
            .map(|p| p.parse::<u16>().unwrap())
            .unwrap_or(self.ports["8080"]);
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                self.fail(b, &format!("the server exited ({s})\n--- output ---\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                self.fail(b, "the server did not listen within 60 s");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // The port accepts connections from the moment it is bound, a little
        // before the banner is printed: wait for the banner's last line
        // (omnigraph-server's `policy ...`; the test embedding provider's
        // `listening on ...`).
        let banner = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.lines().any(|l| l.trim_start().starts_with("policy ") || l.starts_with("listening on ")) {
                break text;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                self.fail(b, &format!("the server printed no banner within 60 s\n--- output ---\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.last = Some((b.line, banner));
        self.servers.push((child, log));
    }

    fn stop_servers(&mut self) {
        for (child, _) in self.servers.drain(..) {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            wait_or_kill(child, Duration::from_secs(20));
        }
    }

    fn check_output(&self, b: &Block, body: &str) {
        let Some((line, printed)) = &self.last else { self.fail(b, "an output block with no block before it") };
        if let Err(why) = shows(body, printed, b.lang == "json") {
            self.fail(b, &format!("{why}\n--- what the block at line {line} printed ---\n{printed}"));
        }
    }

    fn step(&mut self, b: &Block) {
        if b.attr("illustrative").is_some() || b.attr("skip").is_some() {
            return;
        }
        let body = ports(&b.body, &mut self.ports);
        if let Some(name) = b.attr("file") {
            let path = self.work.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
            return;
        }
        if b.attr("output").is_some() {
            return self.check_output(b, &body);
        }
        match b.lang.as_str() {
            "sh" | "bash" if b.attr("server").is_some() => self.start_server(b, &body),
            "sh" | "bash" => self.run(b, &body),
            _ => self.fail(b, &format!("a `{}` block must say what it is: file=NAME, output, or illustrative", b.lang)),
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.stop_servers();
    }
}

fn run_page(relative: &str) {
    let md = std::fs::read_to_string(repo().join(relative)).unwrap();
    let mut page = Page::new(relative);
    for b in blocks(&md) {
        page.step(&b);
    }
    page.stop_servers();
}

/// The pages the docs test runs; a new page must be added here.
const PAGES: [&str; 10] = [
    "README.md",
    "docs/user/schema.md",
    "docs/user/jsonl.md",
    "docs/user/queries.md",
    "docs/user/cli.md",
    "docs/user/graphs.md",
    "docs/user/server.md",
    "docs/user/history.md",
    "docs/user/branches.md",
    "docs/user/search.md",
];

#[test]
fn every_user_page_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(repo().join("docs/user"))
        .unwrap()
        .map(|e| format!("docs/user/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".md"))
        .collect();
    found.push("README.md".into());
    found.sort();
    let mut listed = PAGES.to_vec();
    listed.sort();
    assert_eq!(found, listed, "add the page to PAGES and give it a test");
}

#[test]
fn the_markup_is_read_as_documented() {
    let md = "text\n```sh exit=2\nfalse\n```\n  ```json output\n  {\"a\": 1}\n  ```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].line, b[0].lang.as_str(), b[0].attr("exit")), (2, "sh", Some("2")));
    assert_eq!(b[1].body, "{\"a\": 1}\n");
    assert!(wildcard("id ... at ...", "id 01J at 12:00"));
    assert!(!wildcard("id ... at x", "id 01J at y"));
    assert!(shows("a\n  b   c\n", "a\nz\nb c\n", false).is_ok());
    assert!(shows("b\na\n", "a\nb\n", false).is_err());
    assert!(shows("{\"a\": ...}", "x {\"a\":1} y", true).is_ok());
    let mut map = HashMap::new();
    let s = ports("http://127.0.0.1:8080 and 10.0.0.5:8080 and localhost:8081", &mut map);
    assert!(!s.contains("127.0.0.1:8080") && s.contains("10.0.0.5:8080") && !s.contains(":8081"), "{s}");
}

#[test]
fn readme() {
    run_page("README.md");
}

#[test]
fn schema_page() {
    run_page("docs/user/schema.md");
}

#[test]
fn jsonl_page() {
    run_page("docs/user/jsonl.md");
}

#[test]
fn queries_page() {
    run_page("docs/user/queries.md");
}

#[test]
fn cli_page() {
    run_page("docs/user/cli.md");
}

#[test]
fn graphs_page() {
    run_page("docs/user/graphs.md");
}

#[test]
fn server_page() {
    run_page("docs/user/server.md");
}

#[test]
fn history_page() {
    run_page("docs/user/history.md");
}

#[test]
fn branches_page() {
    run_page("docs/user/branches.md");
}

#[test]
fn search_page() {
    run_page("docs/user/search.md");
}

/// Every `OG-AREA-NNN` written out in `text`.
fn codes_in(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("OG-") {
        let tail = &rest[at + 3..];
        let area: String = tail.chars().take_while(|c| c.is_ascii_uppercase()).collect();
        let after = &tail[area.len()..];
        let digits: String = after.strip_prefix('-').unwrap_or("").chars().take_while(|c| c.is_ascii_digit()).collect();
        if !area.is_empty() && digits.len() == 3 {
            out.insert(format!("OG-{area}-{digits}"));
        }
        rest = tail;
    }
    out
}

fn files_under(dir: &std::path::Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let mut sources = Vec::new();
    for krate in ["engine", "catalog", "recovery", "policy", "server", "cli"] {
        files_under(&repo().join(krate).join("src"), "rs", &mut sources);
    }
    let in_code: std::collections::BTreeSet<String> = sources.iter().flat_map(|p| codes_in(&std::fs::read_to_string(p).unwrap())).collect();
    let in_docs: std::collections::BTreeSet<String> = PAGES.iter().flat_map(|p| codes_in(&std::fs::read_to_string(repo().join(p)).unwrap())).collect();
    let undocumented: Vec<_> = in_code.difference(&in_docs).collect();
    let unknown: Vec<_> = in_docs.difference(&in_code).collect();
    assert!(undocumented.is_empty(), "codes the program uses that no user page lists: {undocumented:?}");
    assert!(unknown.is_empty(), "codes the user pages list that the program never uses: {unknown:?}");
    assert!(in_code.len() > 100, "the scan found only {} codes", in_code.len());
}
