//! End-to-end tests in a real browser: a W3C WebDriver session through
//! fantoccini (`Browser`) driving Debian's headless Chromium through
//! chromedriver, with axe-core accessibility checks and full-page
//! screenshots, and a demo server (`Demo`) for it to browse. `.ci/test`
//! installs Chromium, chromedriver and axe-core when they are missing.
//!
//! fantoccini is async; `Browser` keeps a single-threaded tokio runtime
//! and waits on each command, so that tests read as a person's steps.

// The smoke test uses part of this; the page tests use the rest.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::cookies::Cookie;
use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_ARGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
];

const STARTUP_TIMEOUT_MS: u64 = 20_000;
const POLL_INTERVAL_MS: u64 = 50;
/// How long one WebDriver command may take, page loads and axe runs included.
const COMMAND_TIMEOUT_MS: u64 = 120_000;
/// How long an asynchronous script may run before its promise must settle.
const SCRIPT_TIMEOUT_MS: u64 = 60_000;
const _: () = assert!(SCRIPT_TIMEOUT_MS < COMMAND_TIMEOUT_MS);
const SHUTDOWN_TIMEOUT_MS: u64 = 10_000;
/// A full-page screenshot is cut at this height.
const SCREENSHOT_HEIGHT_PX_MAX: u64 = 8_000;

/// A headless Chromium session, driven through its own chromedriver.
/// Dropping it ends the session and every process it started.
pub struct Browser {
    /// Drives the WebDriver client, on this thread, while a command waits.
    runtime: tokio::runtime::Runtime,
    /// None once the session has ended.
    client: Option<Client>,
    chromedriver: Child,
    profile: PathBuf,
    /// Holds the profile; removed after `drop` has ended every process.
    _scratch: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session in a fresh
    /// profile.
    pub fn start() -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "{CHROMEDRIVER} or {CHROMIUM} is missing: .ci/test installs Debian's chromium and chromium-driver"
        );
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let profile = scratch.path().join("profile");
        let log = scratch.path().join("chromedriver.log");
        let chromedriver_addr = free_local_addr();
        let chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", chromedriver_addr.port()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("create the chromedriver log"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e} (.ci/test installs chromium-driver)"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let mut browser = Browser { runtime, client: None, chromedriver, profile, _scratch: scratch };

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|arg| arg.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("an object") };
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities);
        let url = format!("http://{chromedriver_addr}");
        let deadline = Instant::now() + Duration::from_millis(STARTUP_TIMEOUT_MS);
        // chromedriver listens a moment after it starts: until then the
        // connection is refused, and that alone is worth trying again.
        let client = loop {
            match browser.runtime.block_on(builder.connect(&url)) {
                Ok(client) => break client,
                Err(NewSessionError::Failed(_) | NewSessionError::FailedC(_) | NewSessionError::Lost(_))
                    if Instant::now() < deadline =>
                {
                    if let Some(exit) = browser.chromedriver.try_wait().expect("poll chromedriver") {
                        panic!("chromedriver exited before it was ready ({exit}):\n{}", read_log(&log));
                    }
                    std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
                }
                Err(e) => panic!("chromedriver could not start {CHROMIUM}: {e}\n{}", read_log(&log)),
            }
        };
        browser.client = Some(client);
        let mut timeouts =
            browser.run(|| "get the timeouts".to_owned(), |client| async move { client.get_timeouts().await });
        timeouts.set_script(Some(Duration::from_millis(SCRIPT_TIMEOUT_MS)));
        browser.run(
            || "set the script timeout".to_owned(),
            |client| async move { client.update_timeouts(timeouts).await },
        );
        browser
    }

    /// Runs one WebDriver command to its end or `COMMAND_TIMEOUT_MS`;
    /// panics with what `what` says and the WebDriver error.
    fn run<T, F: Future<Output = Result<T, CmdError>>>(
        &self,
        what: impl FnOnce() -> String,
        command: impl FnOnce(Client) -> F,
    ) -> T {
        let client = self.client.clone().expect("a session");
        let timeout = Duration::from_millis(COMMAND_TIMEOUT_MS);
        // The timer is made inside the runtime, which it needs.
        match self.runtime.block_on(async { tokio::time::timeout(timeout, command(client)).await }) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("WebDriver: {}: {e}", what()),
            Err(_) => panic!("WebDriver: {}: no answer after {COMMAND_TIMEOUT_MS} ms", what()),
        }
    }

    /// The browser's profile directory: every process it starts names it.
    pub fn profile_dir(&self) -> &Path {
        &self.profile
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.run(|| format!("go to {url}"), |client| async move { client.goto(url).await });
    }

    /// The current page's URL.
    pub fn url(&self) -> String {
        self.run(|| "the URL".to_owned(), |client| async move { client.current_url().await }).to_string()
    }

    pub fn title(&self) -> String {
        self.run(|| "the title".to_owned(), |client| async move { client.title().await })
    }

    /// The page's text as rendered (`document.body.innerText`).
    pub fn text(&self) -> String {
        string(self.execute("return document.body ? document.body.innerText : '';", vec![]))
    }

    /// The page's markup as the browser now holds it.
    pub fn html(&self) -> String {
        self.run(|| "the page source".to_owned(), |client| async move { client.source().await })
    }

    /// Runs `script` as the body of a function called with `args`
    /// (`arguments[0]` …) and returns what it returns (WebDriver §13.2.1).
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.run(|| "execute a script".to_owned(), |client| async move { client.execute(script, args).await })
    }

    /// Runs `script` with a callback as its last argument and returns the
    /// value passed to it, waiting at most `SCRIPT_TIMEOUT_MS`
    /// (WebDriver §13.2.2).
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.run(
            || "execute an asynchronous script".to_owned(),
            |client| async move { client.execute_async(script, args).await },
        )
    }

    /// Clicks the first element matching `css_selector` as a person would:
    /// scrolled into view, at its centre, refused if something covers it.
    pub fn click(&self, css_selector: &str) {
        let what = || format!("click `{css_selector}` on {}", self.url());
        self.run(what, |client| async move { client.find(Locator::Css(css_selector)).await?.click().await });
    }

    /// Types `text` into the first element matching `css_selector`, after
    /// what it already holds.
    pub fn type_into(&self, css_selector: &str, text: &str) {
        let what = || format!("type into `{css_selector}` on {}", self.url());
        self.run(what, |client| async move { client.find(Locator::Css(css_selector)).await?.send_keys(text).await });
    }

    /// Empties the first input or text area matching `css_selector`.
    pub fn clear(&self, css_selector: &str) {
        let what = || format!("clear `{css_selector}` on {}", self.url());
        self.run(what, |client| async move { client.find(Locator::Css(css_selector)).await?.clear().await });
    }

    /// The current page's cookies (WebDriver §14.1).
    pub fn cookies(&self) -> Vec<Cookie<'static>> {
        self.run(|| "the cookies".to_owned(), |client| async move { client.get_all_cookies().await })
    }

    /// Resizes the window to `width_px`, keeping its height, so that a test
    /// can see the narrow layout.
    pub fn set_window_width(&self, width_px: u64) {
        let (_, _, _, height) = self.window_rect();
        self.set_window_size(width_px, height);
    }

    fn window_rect(&self) -> (u64, u64, u64, u64) {
        self.run(|| "the window's rectangle".to_owned(), |client| async move { client.get_window_rect().await })
    }

    fn set_window_size(&self, width_px: u64, height_px: u64) {
        let size = |px: u64| u32::try_from(px).expect("a window size in pixels");
        self.run(
            || "resize the window".to_owned(),
            |client| async move { client.set_window_size(size(width_px), size(height_px)).await },
        );
        let (_, _, width, height) = self.window_rect();
        assert_eq!((width, height), (width_px, height_px), "the window's size");
    }

    /// Saves a PNG of the whole page, up to `SCREENSHOT_HEIGHT_PX_MAX`, to
    /// `target/screenshots/NAME.png` and returns its path. WebDriver's
    /// screenshot shows the viewport only (§17.1), so the window grows to the
    /// page's height for it and then goes back.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "a screenshot's name is a plain file name, not {name:?}"
        );
        let (_, _, width, height) = self.window_rect();
        let sizes = self
            .execute("return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight];", vec![]);
        let [page_height, inner_height, outer_height] = [0, 1, 2].map(|idx| sizes[idx].as_u64().expect("a size"));
        let window_height = page_height.min(SCREENSHOT_HEIGHT_PX_MAX) + outer_height.saturating_sub(inner_height);
        self.set_window_size(width, window_height);
        let png = self.run(|| "a screenshot".to_owned(), |client| async move { client.screenshot().await });
        self.set_window_size(width, height);

        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a screenshot is a PNG");
        let path = screenshots_directory().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Prints the current page as the browser prints it (its print
    /// stylesheet, A4) to `target/screenshots/NAME.pdf`, through WebDriver's
    /// Print Page (§18.1), and returns the PDF's bytes.
    pub fn print_pdf(&self, name: &str) -> Vec<u8> {
        let a4 = PrintConfiguration::builder().background(false).build().expect("A4 is a valid page");
        let pdf = self.run(|| "print the page".to_owned(), |client| async move { client.print(a4).await });
        assert!(pdf.starts_with(b"%PDF-"), "a printed page is a PDF");
        std::fs::write(screenshots_directory().join(format!("{name}.pdf")), &pdf).expect("write the printed page");
        pdf
    }

    /// The current page's serious and critical accessibility violations, as
    /// axe-core finds them: each with its rule `id`, `impact`, `help` and the
    /// `targets` (CSS selectors) of the elements that fail it.
    pub fn axe(&self) -> Vec<Value> {
        let present = self.execute("return typeof window.axe === 'object';", vec![]);
        if present != true {
            self.execute(&axe_source(), vec![]);
        }
        let result = self.execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(
               (results) => done({ violations: results.violations.map((violation) => ({
                 id: violation.id,
                 impact: violation.impact,
                 help: violation.help,
                 targets: violation.nodes.map((node) => node.target.join(' ')),
               })) }),
               (error) => done({ error: String(error) }),
             );",
            vec![],
        );
        let Some(Value::Array(violations)) = result.get("violations") else {
            panic!("axe-core failed on {}: {result}", self.url());
        };
        violations
            .iter()
            .filter(|violation| violation["impact"] == "serious" || violation["impact"] == "critical")
            .cloned()
            .collect()
    }

    /// Panics, listing them, if the current page has serious or critical
    /// accessibility violations; `page` names it in the message.
    pub fn assert_accessible(&self, page: &str) {
        let violations = self.axe();
        if violations.is_empty() {
            return;
        }
        let mut message = format!("{page} ({}) has {} accessibility violations:", self.url(), violations.len());
        let text = |value: &Value| value.as_str().unwrap_or("?").to_owned();
        for violation in &violations {
            let [id, impact, help] = ["id", "impact", "help"].map(|field| text(&violation[field]));
            message += &format!("\n- {id} ({impact}): {help}");
            for target in violation["targets"].as_array().into_iter().flatten() {
                message += &format!("\n    at {}", text(target));
            }
        }
        panic!("{message}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session quits Chromium; chromedriver then goes. Whatever
        // is left (the session never started, or chromedriver died) is found
        // by the profile directory that Chromium's processes name.
        if let Some(client) = self.client.take() {
            let timeout = Duration::from_millis(SHUTDOWN_TIMEOUT_MS);
            let _ = self.runtime.block_on(async { tokio::time::timeout(timeout, client.close()).await });
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        for pid in processes_naming(&self.profile) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

/// `target/screenshots`, made if missing.
fn screenshots_directory() -> PathBuf {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&directory).expect("create target/screenshots");
    directory
}

/// The ids of the running processes whose command line contains `path`.
pub fn processes_naming(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // A zombie's command line is empty: it has already ended.
            let command_line = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&command_line).contains(&needle)
        })
        .collect()
}

/// axe-core's browser bundle: `AXE_CORE_JS`, else where `.ci/test` puts it.
fn axe_source() -> String {
    let path = match std::env::var_os("AXE_CORE_JS") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-tools/node_modules/axe-core/axe.min.js"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("read axe-core from {}: {e} (.ci/test installs it; AXE_CORE_JS names another copy)", path.display())
    })
}

/// Polls `done` every 50 ms until it holds; panics with what `why` says
/// once `seconds` have passed. Pages change after a click or a script
/// returns, so tests wait for what they expect rather than sleep.
pub fn wait_until(seconds: u64, mut done: impl FnMut() -> bool, why: impl FnOnce() -> String) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        if Instant::now() >= deadline {
            panic!("{}", why());
        }
        std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
    }
}

/// The demo council's minute book served by the real binary on a free
/// port. Dropping it stops the server with SIGTERM.
pub struct Demo {
    server: Child,
    base_url: String,
    tokens: BTreeMap<String, String>,
    data: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Demo {
    pub fn start() -> Demo {
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let data = scratch.path().join("demo");
        let created = Command::new(env!("CARGO_BIN_EXE_minutebook"))
            .arg("demo")
            .arg("--data")
            .arg(&data)
            .arg("--no-serve")
            .output()
            .expect("run minutebook demo");
        let stdout = String::from_utf8(created.stdout).expect("UTF-8 output");
        assert!(created.status.success(), "minutebook demo: {}{stdout}", String::from_utf8_lossy(&created.stderr));
        // The demo prints one line per role: `  ROLE     TOKEN`.
        let tokens: BTreeMap<String, String> = ["admin", "clerk", "member", "auditor"]
            .into_iter()
            .map(|role| {
                let line = stdout
                    .lines()
                    .find(|line| line.split_whitespace().next() == Some(role))
                    .unwrap_or_else(|| panic!("the demo prints no token for {role}:\n{stdout}"));
                (role.to_owned(), line.split_whitespace().last().expect("a token").to_owned())
            })
            .collect();

        let log = scratch.path().join("serve.log");
        let mut server = Command::new(env!("CARGO_BIN_EXE_minutebook"))
            .arg("serve")
            .arg("--data")
            .arg(&data)
            .args(["--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the server log"))
            .spawn()
            .expect("start minutebook serve");
        // A thread reads the server's stdout to its end, so that the wait for
        // the address can time out and the server never writes to a closed
        // pipe.
        let (lines, lines_received) = mpsc::channel();
        let stdout = BufReader::new(server.stdout.take().expect("piped stdout"));
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_millis(STARTUP_TIMEOUT_MS);
        // `serving DATA on http://ADDR/`
        let base_url = loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            match lines_received.recv_timeout(timeout) {
                Ok(line) if line.starts_with("serving ") => {
                    let addr = line.rsplit("http://").next().expect("an address").trim_end_matches('/');
                    break format!("http://{addr}");
                }
                Ok(_) => continue,
                Err(e) => {
                    let _ = server.kill();
                    panic!("minutebook serve printed no address ({e}):\n{}", read_log(&log));
                }
            }
        };
        let demo = Demo { server, base_url, tokens, data, _scratch: scratch };
        demo.wait_until_healthy(&log);
        demo
    }

    fn wait_until_healthy(&self, log: &Path) {
        let addr = self.base_url.trim_start_matches("http://");
        let deadline = Instant::now() + Duration::from_millis(STARTUP_TIMEOUT_MS);
        loop {
            match crate::api::get(addr, "/healthz", &[]) {
                Ok(response) if response.status() == 200 => return,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS)),
                result => panic!("{}/healthz: {:?}\n{}", self.base_url, result.map(|r| r.status()), read_log(log)),
            }
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path` (which starts with `/`) on the server.
    pub fn url(&self, path: &str) -> String {
        assert!(path.starts_with('/'), "a path starts with /: {path}");
        format!("{}{path}", self.base_url)
    }

    /// The API token the demo made for `role`: admin, clerk (off-rowe),
    /// member (cllr-okoro) or auditor.
    pub fn token(&self, role: &str) -> String {
        match self.tokens.get(role) {
            Some(token) => token.clone(),
            None => panic!("the demo has no token for {role:?}, only for {:?}", self.tokens.keys()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.server.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_millis(SHUTDOWN_TIMEOUT_MS);
        while let Ok(None) = self.server.try_wait() {
            if Instant::now() >= deadline {
                let _ = self.server.kill();
                let _ = self.server.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_local_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("a bound address")
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("(no log at {}: {e})", path.display()))
}

fn string(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => panic!("expected a string, got {other}"),
    }
}
