//! The clerk's console and the chair's signing page in a real browser: a
//! clerk records a whole invented meeting through the console, confirms
//! April's minutes at it and publishes its draft; the chair registers a
//! new key and signs April's minutes in the browser with WebCrypto; the
//! exported minutes verify with `minutebook verify`. And two clerks on one
//! meeting: the second is told what changed and applies theirs again;
//! what was typed survives a reload.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::support::run_cli;
use crate::webdriver::{wait_until, Browser, Demo};

const JUNE: &str = "rcsp-2026-06-11";
const APRIL: &str = "rcsp-2026-04-16";

fn wait_for(what: &str, done: impl FnMut() -> bool) {
    wait_until(15, done, || format!("timed out waiting for {what}"));
}

fn sign_in(browser: &Browser, demo: &Demo, role: &str) {
    browser.goto(&demo.url("/sign-in"));
    browser.clear("#token");
    browser.type_into("#token", &demo.token(role));
    browser.click("form.stacked button");
    wait_for("signing in", || browser.text().contains("Signed in as"));
}

/// A command through the API from the page, with the clerk's bearer token
/// (and the meeting's ETag when `meeting` is given): how the test sets the
/// scene, not how the console records.
fn api_post(browser: &Browser, token: &str, path: &str, body: Value, meeting: Option<&str>) -> Value {
    let script = r#"
        const [path, body, meeting, token, done] = arguments;
        const auth = { "Authorization": "Bearer " + token };
        const etag = meeting ? fetch("/v1/meetings/" + meeting, { headers: auth }).then(r => r.headers.get("ETag"))
                             : Promise.resolve(null);
        etag.then(tag => fetch(path, {
              method: "POST",
              headers: { ...auth, "Content-Type": "application/json", ...(tag ? { "If-Match": tag } : {}) },
              body: JSON.stringify(body),
            }))
            .then(r => r.text().then(text => done([r.status, text])), e => done([0, String(e)]));
    "#;
    let answer = browser.execute_async(script, vec![json!(path), body, json!(meeting), json!(token)]);
    assert_eq!(answer[0], json!(201), "POST {path}: {answer}");
    answer
}

/// Schedules June's meeting with its agenda.
fn schedule_june(browser: &Browser, demo: &Demo) {
    let clerk = demo.token("clerk");
    api_post(
        browser,
        &clerk,
        "/v1/meetings",
        json!({ "meeting": JUNE, "body": "riverside-scrutiny", "date": "2026-06-11", "start": "18:30",
                "venue": "Committee Room 2, Eastbrook Civic Centre" }),
        None,
    );
    let items = json!({ "items": [
        { "number": 1, "title": "Apologies and welcome", "kind": "Apologies" },
        { "number": 2, "title": "Declarations of interest", "kind": "Declarations" },
        { "number": 3, "title": "Public participation", "kind": "PublicParticipation" },
        { "number": 4, "title": "Minutes of the previous meeting", "kind": "ConfirmationOfMinutes" },
        { "number": 5, "title": "Parks and open spaces strategy", "kind": "Substantive" },
    ] });
    api_post(browser, &clerk, &format!("/v1/meetings/{JUNE}/agenda"), items, Some(JUNE));
}

/// Submits a console form and waits for the console to say how it went;
/// returns what it said.
fn submit(browser: &Browser, form: &str) -> String {
    browser.execute("document.getElementById('console-status').textContent = '';", vec![]);
    browser.click(&format!("#{form} button[type=submit]"));
    let mut said = String::new();
    wait_until(
        15,
        || {
            said = browser.execute("return document.getElementById('console-status').textContent;", vec![]).to_string();
            said.contains("Recorded") || said.contains("Not ")
        },
        || format!("the console never answered form {form} (at {}):\n{}", browser.url(), browser.text()),
    );
    assert!(said.contains("Recorded"), "form {form}: {said}");
    said
}

/// Sets a field's value as a person choosing it would (time and date
/// fields take typed digits by locale), then tells the page.
fn set_value(browser: &Browser, selector: &str, value: &str) {
    browser.execute(
        "const field = document.querySelector(arguments[0]); field.value = arguments[1];
         field.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(selector), json!(value)],
    );
}

fn choose(browser: &Browser, select: &str, value: &str) {
    browser.click(&format!("{select} option[value='{value}']"));
}

#[test]
fn a_clerk_records_a_whole_meeting_and_the_chair_signs_in_the_browser() {
    let demo = Demo::start();
    let clerk = Browser::start();
    sign_in(&clerk, &demo, "clerk");
    schedule_june(&clerk, &demo);

    clerk.goto(&demo.url(&format!("/meetings/{JUNE}/console")));
    assert!(clerk.text().contains("Recording: Riverside Communities Scrutiny Panel"), "{}", clerk.text());
    clerk.assert_accessible("console, scheduled");
    submit(&clerk, "open");

    // Attendance from the membership, a few clicks each.
    clerk.click("#present-cllr-okoro input[name=presiding]");
    submit(&clerk, "present-cllr-okoro");
    for member in ["cllr-patel", "cllr-brennan", "cllr-lindqvist"] {
        submit(&clerk, &format!("present-{member}"));
    }
    set_value(&clerk, "#late-cllr-mensah", "18:45");
    submit(&clerk, "present-cllr-mensah");
    choose(&clerk, "#sub-cllr-fairweather", "cllr-quinn");
    submit(&clerk, "apologies-cllr-fairweather");
    choose(&clerk, "#substitute-person", "cllr-quinn");
    choose(&clerk, "#substitute-for", "cllr-fairweather");
    submit(&clerk, "substitute");
    choose(&clerk, "#also-person", "off-rowe");
    clerk.type_into("#also-title", "Democratic Services Officer");
    submit(&clerk, "also-attended");

    // Items in agenda order: the first by the keyboard shortcut.
    clerk.type_into("#point-text", "\u{E00A}n\u{E00A}");
    wait_for("Alt+N to take item 1", || clerk.text().contains("1. Apologies and welcome taken"));
    for _ in 2..=4 {
        submit(&clerk, "take-item");
    }
    choose(&clerk, "#decl-person", "cllr-brennan");
    clerk.type_into("#decl-item", "5");
    clerk.type_into("#decl-nature", "Lives beside the park the strategy covers");
    clerk.click("#declaration input[name=withdrew]");
    submit(&clerk, "declaration");
    // At item 4 the Panel confirms April's minutes.
    choose(&clerk, "#confirm-meeting", APRIL);
    choose(&clerk, "#confirm-item", "4");
    submit(&clerk, "confirm");
    submit(&clerk, "take-item");
    // Alt+P starts a point; Ctrl+Enter saves it.
    clerk.type_into("#decl-nature", "\u{E00A}p\u{E00A}");
    clerk.clear("#point-text");
    clerk.type_into("#point-text", "The strategy would plant 400 trees over five years.\u{E009}\u{E007}\u{E009}");
    wait_for("Ctrl+Enter to record the point", || clerk.text().contains("plant 400 trees"));
    clerk.type_into("#decision-text", "That the strategy be endorsed.");
    for (field, value) in [("#vote-for", "4"), ("#vote-abstain", "1")] {
        clerk.clear(field);
        clerk.type_into(field, value);
    }
    choose(&clerk, "#decision-mover", "cllr-okoro");
    choose(&clerk, "#decision-seconder", "cllr-patel");
    submit(&clerk, "decision");
    clerk.type_into("#action-owner", "the Director of Communities");
    clerk.type_into("#action-text", "Publish the planting plan.");
    submit(&clerk, "action");
    set_value(&clerk, "#close-at", "20:05");
    submit(&clerk, "close");
    submit(&clerk, "publish");
    let preview = clerk.execute("return document.getElementById('preview').innerText;", vec![]);
    let preview = preview.as_str().unwrap_or_default();
    for want in [
        "Councillor Ada Okoro (Chair), presiding",
        "Councillor Fergus Quinn (substitute for Councillor Tom Fairweather)",
        "Maya Rowe (Democratic Services Officer)",
        "Parks and open spaces strategy",
        "The strategy would plant 400 trees over five years.",
        "That the strategy be endorsed.",
        "For 4, against 0, abstentions 1",
        "Publish the planting plan.",
        "The meeting ended at 8.05 pm.",
    ] {
        assert!(preview.contains(want), "{want:?} is not in the preview:\n{preview}");
    }
    clerk.assert_accessible("console, published");
    clerk.screenshot("clerk-console");

    // The public reads June's draft and sees April's minutes confirmed.
    let public = Browser::start();
    public.goto(&demo.url(&format!("/meetings/{JUNE}")));
    assert!(public.text().contains("Draft — subject to confirmation"), "{}", public.text());
    public.goto(&demo.url(&format!("/meetings/{APRIL}")));
    assert!(public.text().contains("Confirmed"), "{}", public.text());

    // The chair, who presided in June, registers a new key and signs April's minutes.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("okoro-2026.jwk");
    let (code, _, stderr) = run_cli(&["keys", "generate", "--person", "cllr-okoro", "--out", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let chair = Browser::start();
    sign_in(&chair, &demo, "member");
    chair.goto(&demo.url(&format!("/meetings/{APRIL}/sign")));
    assert!(chair.text().contains("minutebook signing statement"), "{}", chair.text());
    chair.assert_accessible("signing page");
    chair.screenshot("chair-signing-page");
    chair.type_into("#register-key-file", key.to_str().unwrap());
    chair.click("#register-key button");
    wait_for("the key to be registered", || chair.text().contains("Your key is registered"));
    chair.type_into("#key-file", key.to_str().unwrap());
    chair.click("#sign-with-key button");
    wait_for("the signature", || chair.text().contains("Signed. The minutes now carry your signature."));
    chair.goto(&demo.url(&format!("/meetings/{APRIL}")));
    assert!(chair.text().contains("Signed by Councillor Ada Okoro"), "{}", chair.text());

    // The signed minutes verify offline.
    let tar = chair.execute_async(
        r#"const done = arguments[arguments.length - 1];
           fetch("/v1/export?meeting=rcsp-2026-04-16").then(r => r.arrayBuffer()).then(b => {
             let s = ""; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); });"#,
        vec![],
    );
    let tar_path = dir.path().join("april.tar");
    std::fs::write(&tar_path, base64::engine::general_purpose::STANDARD.decode(tar.as_str().unwrap()).unwrap())
        .unwrap();
    let (code, stdout, stderr) = run_cli(&["verify", tar_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("signed by cllr-okoro"), "{stdout}");
}

#[test]
fn two_clerks_on_one_meeting_never_overwrite_each_other_and_typed_text_survives() {
    let demo = Demo::start();
    let first = Browser::start();
    let second = Browser::start();
    sign_in(&first, &demo, "clerk");
    sign_in(&second, &demo, "admin");
    schedule_june(&first, &demo);
    let clerk = demo.token("clerk");
    api_post(&first, &clerk, &format!("/v1/meetings/{JUNE}/open"), json!({ "at": "18:30" }), Some(JUNE));
    api_post(&first, &clerk, &format!("/v1/meetings/{JUNE}/items"), json!({ "item": 1 }), Some(JUNE));
    first.goto(&demo.url(&format!("/meetings/{JUNE}/console")));
    second.goto(&demo.url(&format!("/meetings/{JUNE}/console")));

    first.type_into("#point-text", "Members welcomed the new youth worker.");
    submit(&first, "point");
    // The second console still holds the meeting as it was.
    second.type_into("#point-text", "The chair thanked the retiring caretaker.");
    second.click("#point button[type=submit]");
    wait_for("the conflict", || {
        second.execute("return document.getElementById('conflict').hidden;", vec![]) == json!(false)
    });
    let conflict = second.execute("return document.getElementById('conflict').innerText;", vec![]);
    let conflict = conflict.as_str().unwrap_or_default().to_owned();
    assert!(conflict.contains("Another clerk changed this meeting"), "{conflict}");
    assert!(conflict.contains("Members welcomed the new youth worker."), "{conflict}");
    second.assert_accessible("conflict");
    second.screenshot("clerk-console-conflict");
    second.click("#conflict-reapply");
    wait_for("the change applied again", || {
        let preview = second.execute("return document.getElementById('preview').innerText;", vec![]);
        let preview = preview.as_str().unwrap_or_default();
        preview.contains("Members welcomed the new youth worker.") && preview.contains("retiring caretaker")
    });

    // Typed and not sent: a reload brings it back.
    second.type_into("#point-text", "Words not yet sent.");
    second.goto(&demo.url(&format!("/meetings/{JUNE}/console")));
    let kept = second.execute("return document.getElementById('point-text').value;", vec![]);
    assert_eq!(kept, json!("Words not yet sent."));
    assert!(second.text().contains("Not yet saved"), "{}", second.text());
}

/// Chooses the option of `select` whose text contains `needle`.
fn choose_text(browser: &Browser, select: &str, needle: &str) {
    let chosen = browser.execute(
        "const select = document.querySelector(arguments[0]);
         const option = [...select.options].find(o => o.textContent.includes(arguments[1]));
         if (!option) return null;
         select.value = option.value;
         return option.value;",
        vec![json!(select), json!(needle)],
    );
    assert!(chosen.is_string(), "{select} has no option saying {needle:?}");
}

#[test]
fn after_the_meeting_the_console_revises_corrects_and_redacts_and_the_chair_signs_offline() {
    let demo = Demo::start();
    let clerk = Browser::start();
    sign_in(&clerk, &demo, "clerk");

    // April's published draft: revised, with a reason.
    clerk.goto(&demo.url(&format!("/meetings/{APRIL}/console")));
    choose_text(&clerk, "#revise-target", "Youth clubs reported");
    clerk.type_into("#revise-text", "Youth clubs reported a rise in attendance over the winter months.");
    clerk.type_into("#revise-reason", "The chair asked for the period to be clearer");
    submit(&clerk, "revise");
    // March's signed minutes: corrected, authorised by April's minute, and a detail redacted.
    let march = "rcsp-2026-03-05";
    clerk.goto(&demo.url(&format!("/meetings/{march}/console")));
    choose_text(&clerk, "#correct-target", "clear the backlog");
    clerk.type_into("#correct-text", "The plan would clear the backlog of damp and mould cases by August.");
    choose(&clerk, "#correct-by-meeting", APRIL);
    clerk.type_into("#correct-by-item", "4");
    clerk.type_into("#correct-reason", "The month was misheard");
    submit(&clerk, "correct");
    choose_text(&clerk, "#redact-seq", "Attendance: Luis Castellano");
    clerk.type_into("#redact-basis", "UK GDPR Article 17 request from the data subject");
    submit(&clerk, "redact");
    clerk.goto(&demo.url(&format!("/meetings/{march}/trail")));
    let trail = clerk.text();
    for want in ["The month was misheard", "Authority", "Redacted: UK GDPR Article 17 request from the data subject"] {
        assert!(trail.contains(want), "{want:?} is not in the trail:\n{trail}");
    }
    clerk.goto(&demo.url(&format!("/meetings/{APRIL}/trail")));
    assert!(clerk.text().contains("The chair asked for the period to be clearer"), "{}", clerk.text());

    // June confirms April's minutes, set up through the API.
    schedule_june(&clerk, &demo);
    let token = demo.token("clerk");
    let post = |path: &str, body: Value, meeting: Option<&str>| api_post(&clerk, &token, path, body, meeting);
    post(&format!("/v1/meetings/{JUNE}/open"), json!({ "at": "18:30" }), Some(JUNE));
    post(
        &format!("/v1/meetings/{JUNE}/attendance"),
        json!({ "person": "cllr-okoro", "as": "member", "presiding": true }),
        Some(JUNE),
    );
    for member in ["cllr-patel", "cllr-brennan"] {
        post(&format!("/v1/meetings/{JUNE}/attendance"), json!({ "person": member, "as": "member" }), Some(JUNE));
    }
    for item in 1..=4 {
        post(&format!("/v1/meetings/{JUNE}/items"), json!({ "item": item }), Some(JUNE));
    }
    post(&format!("/v1/meetings/{APRIL}/confirmation"), json!({ "by_meeting": JUNE, "by_item": 4 }), Some(APRIL));

    // The chair signs offline with minutebook sign, and sends the signature.
    let chair = Browser::start();
    sign_in(&chair, &demo, "member");
    chair.goto(&demo.url(&format!("/meetings/{APRIL}/sign")));
    let statement = chair.execute("return document.getElementById('statement').textContent;", vec![]);
    let dir = tempfile::tempdir().unwrap();
    let statement_file = dir.path().join("statement.txt");
    std::fs::write(&statement_file, statement.as_str().unwrap()).unwrap();
    let key = demo.data_dir().join("demo-keys").join("cllr-okoro.jwk");
    let (code, signature, stderr) =
        run_cli(&["sign", "--key", key.to_str().unwrap(), statement_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (code, public_key, stderr) = run_cli(&["keys", "public", "--key", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    chair.type_into("#offline-public-key", public_key.trim());
    chair.type_into("#offline-signature", signature.trim());
    chair.click("#sign-offline button");
    wait_for("the offline signature", || chair.text().contains("Signed. The minutes now carry your signature."));
    chair.goto(&demo.url(&format!("/meetings/{APRIL}")));
    assert!(chair.text().contains("Signed by Councillor Ada Okoro"), "{}", chair.text());
}
