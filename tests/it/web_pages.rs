//! The website in a real browser against the demo council: every page
//! opens, reads as it should, links to the others, passes axe-core with
//! no serious or critical violation, and is saved as a screenshot under
//! target/screenshots; the public never sees exempt content, a signed-in
//! clerk does; a meeting's page hears the live feed.

use serde_json::json;

use crate::webdriver::{wait_until, Browser, Demo};

const SIGNED: &str = "rcsp-2026-03-05";
/// Words of the exempt item's point (as recorded, and as corrected).
const EXEMPT: [&str; 2] = ["4% below", "6% below"];

fn assert_contains(text: &str, wanted: &[&str], page: &str) {
    for want in wanted {
        assert!(text.contains(want), "{page}: {want:?} is not on the page:\n{text}");
    }
}

/// Waits for the page the last click led to, whose URL `arrived` says.
fn wait_for(browser: &Browser, arrived: impl Fn(&str) -> bool) -> String {
    let mut url = String::new();
    wait_until(
        10,
        || {
            url = browser.url();
            arrived(&url) && browser.execute("return document.readyState;", vec![]) == json!("complete")
        },
        || format!("still at {}", browser.url()),
    );
    url
}

/// Waits until the page says `needle`.
fn wait_for_text(browser: &Browser, needle: &str) {
    wait_until(
        10,
        || browser.text().contains(needle),
        || format!("the page never said {needle:?}:\n{}", browser.text()),
    );
}

fn assert_no_exempt(text: &str, page: &str) {
    for secret in EXEMPT {
        assert!(!text.contains(secret), "{page}: the public sees exempt content {secret:?}:\n{text}");
    }
}

#[test]
fn the_pages_read_well_link_up_and_pass_axe_for_the_public_and_for_a_clerk() {
    let demo = Demo::start();
    let browser = Browser::start();
    // Every page the public reads: what it must say, then axe, then a screenshot.
    let pages: [(&str, String, &[&str]); 10] = [
        ("home", "/".to_owned(), &["Committees, panels and boards", "Riverside Communities Scrutiny Panel"]),
        (
            "body",
            "/bodies/riverside-scrutiny".to_owned(),
            &["Upcoming meetings", "Past meetings", "Thursday 5 March 2026", "Members", "Councillor Ada Okoro"],
        ),
        (
            "minutes",
            format!("/meetings/{SIGNED}"),
            &[
                "Signed, and corrected since",
                "Present",
                "Apologies",
                "Available papers",
                "398. Housing repairs recovery plan",
                "RESOLVED",
                "The content of this item is exempt and is not published.",
                "Verification",
                "Confirmed",
                "Download the evidence (.tar)",
                "minutebook verify minutebook-meeting-rcsp-2026-03-05.tar",
            ],
        ),
        (
            "trail",
            format!("/meetings/{SIGNED}/trail"),
            &["Audit trail", "Meeting scheduled for 2026-03-05", "Reason: The year was omitted from the clerk's notes"],
        ),
        (
            "trail-minute",
            format!("/meetings/{SIGNED}/trail?item=6"),
            &["Audit trail of minute 399", "Before and after"],
        ),
        (
            "actions",
            "/bodies/riverside-scrutiny/actions".to_owned(),
            &["Actions tracker", "Send the Panel's comments to Cabinet."],
        ),
        (
            "member",
            "/people/cllr-brennan".to_owned(),
            &["Councillor Siobhan Brennan", "Present at 2 of 3 meetings", "Declarations of interest", "398"],
        ),
        ("search", "/search?q=minute+9999".to_owned(), &["Find a minute", "No committee has a minute 9999 yet."]),
        ("sign-in", "/sign-in".to_owned(), &["Sign in", "Token"]),
        ("not-found", "/no-such-page".to_owned(), &["Page not found"]),
    ];
    for (name, path, wanted) in &pages {
        browser.goto(&demo.url(path));
        let text = browser.text();
        assert_contains(&text, wanted, name);
        assert_no_exempt(&text, name);
        assert_no_exempt(&browser.html(), name);
        browser.assert_accessible(name);
        browser.screenshot(&format!("public-{name}"));
    }

    // Councils print signed minutes: the print stylesheet leaves out the
    // site's header, navigation and footer, and keeps the minutes and the
    // verification panel.
    browser.goto(&demo.url(&format!("/meetings/{SIGNED}")));
    let hidden_in_print = browser.execute(
        "const rules = [...document.styleSheets].flatMap(s => [...s.cssRules]);
         const print = rules.filter(r => r.media && r.media.mediaText === 'print').flatMap(r => [...r.cssRules]);
         return ['.site-header', '.site-footer', '.crumbs', '.minutes', '.verification'].map(selector =>
           print.some(r => r.selectorText && r.selectorText.split(',').map(s => s.trim()).includes(selector)
             && r.style.display === 'none'));",
        vec![],
    );
    assert_eq!(hidden_in_print, json!([true, true, true, false, false]), "what the print stylesheet hides");
    let pdf = browser.print_pdf("public-minutes-print");
    assert!(pdf.len() > 20_000, "the printed minutes are {} bytes", pdf.len());

    // Links between pages, as a reader follows them.
    browser.goto(&demo.url("/"));
    browser.click("a[href='/bodies/riverside-scrutiny']");
    wait_for(&browser, |url| url.ends_with("/bodies/riverside-scrutiny"));
    browser.click(&format!("a[href='/meetings/{SIGNED}']"));
    wait_for(&browser, |url| url.ends_with(&format!("/meetings/{SIGNED}")));
    browser.click(&format!("a[href='/meetings/{SIGNED}/trail']"));
    wait_for(&browser, |url| url.ends_with("/trail"));
    browser.click(&format!("a[href='/meetings/{SIGNED}/trail?item=6']"));
    wait_for(&browser, |url| url.ends_with("/trail?item=6"));
    assert!(browser.text().contains("Audit trail of minute 399"), "{}", browser.text());
    // A revision's "as they stood then" link shows the minutes at that point.
    browser.click("li.trail-entry a[href*='?at=']");
    wait_for(&browser, |url| url.contains("?at="));
    assert!(browser.text().contains("as they stood after the first"), "{}", browser.text());
    browser.goto(&demo.url(&format!("/meetings/{SIGNED}")));
    browser.click("a[href='/people/cllr-patel']");
    wait_for(&browser, |url| url.ends_with("/people/cllr-patel"));
    assert!(browser.text().contains("Councillor Ravi Patel"), "{}", browser.text());

    // The header's search finds a minute by its number.
    browser.goto(&demo.url("/"));
    browser.type_into("#q", "minute 398");
    browser.click("form.search button");
    wait_for(&browser, |url| url.ends_with(&format!("/meetings/{SIGNED}#minute-398")));

    // A clerk signs in once; the cookie is HttpOnly and SameSite=Strict.
    browser.goto(&demo.url("/sign-in"));
    browser.type_into("#token", "not-a-token");
    browser.click("form.stacked button");
    wait_for_text(&browser, "That token is not known");
    browser.assert_accessible("sign-in refused");
    browser.clear("#token");
    browser.type_into("#token", &demo.token("clerk"));
    browser.click("form.stacked button");
    wait_for(&browser, |url| url.ends_with('/'));
    assert!(browser.text().contains("Signed in as off-rowe (clerk)"), "{}", browser.text());
    let cookie = browser.cookies().into_iter().find(|c| c.name() == "minutebook_token").expect("the sign-in cookie");
    let same_site = cookie.same_site().map(|same_site| same_site.to_string());
    assert_eq!((cookie.http_only(), same_site.as_deref()), (Some(true), Some("Strict")), "{cookie}");
    browser.goto(&demo.url(&format!("/meetings/{SIGNED}")));
    let text = browser.text();
    assert_contains(&text, &["The preferred bidder's price was 6% below the council's estimate."], "clerk minutes");
    browser.assert_accessible("clerk minutes");
    browser.screenshot("clerk-minutes");
    browser.goto(&demo.url(&format!("/meetings/{SIGNED}/trail?item=7")));
    assert_contains(&browser.text(), &["The figure was misreported in the minutes", "Authority"], "clerk trail");
    browser.assert_accessible("clerk trail");
    browser.screenshot("clerk-trail-exempt-minute");
    // Signing out makes the reader the public again.
    browser.click("form[action='/sign-out'] button");
    wait_for(&browser, |url| url.ends_with('/'));
    browser.goto(&demo.url(&format!("/meetings/{SIGNED}")));
    assert_no_exempt(&browser.text(), "after signing out");
    assert!(browser.text().contains("Sign in"));
}

#[test]
fn a_meeting_page_says_when_its_record_changes() {
    let demo = Demo::start();
    let browser = Browser::start();
    // The April meeting's draft is published, and not yet confirmed.
    let meeting = "rcsp-2026-04-16";
    browser.goto(&demo.url(&format!("/meetings/{meeting}")));
    assert!(browser.text().contains("Draft — subject to confirmation"), "{}", browser.text());
    let hidden = || browser.execute("return document.getElementById('live').hidden;", vec![]);
    assert_eq!(hidden(), json!(true));
    // The clerk revises the draft through the API, from the page.
    let script = r#"
        const [meeting, token, done] = arguments;
        const auth = { "Authorization": "Bearer " + token };
        fetch("/v1/meetings/" + meeting, { headers: auth })
          .then(r => r.headers.get("ETag"))
          .then(etag => fetch("/v1/meetings/" + meeting + "/revisions", {
            method: "POST",
            headers: { ...auth, "Content-Type": "application/json", "If-Match": etag },
            body: JSON.stringify({
              change: { AddPoint: { item: 5, text: "Members asked for next year's figures by ward." } },
              reason: "Omitted from the clerk's notes",
            }),
          }))
          .then(r => done(r.status), e => done(String(e)));
    "#;
    let status = browser.execute_async(script, vec![json!(meeting), json!(demo.token("clerk"))]);
    assert_eq!(status, json!(201));
    wait_until(20, || hidden() == json!(false), || "the live notice never showed".to_owned());
    assert!(browser.text().contains("This meeting's record has just changed."), "{}", browser.text());
    browser.assert_accessible("live notice");
    browser.screenshot("public-live-notice");
    browser.click("#live a");
    wait_for(&browser, |url| url.ends_with(&format!("/meetings/{meeting}")));
    assert!(browser.text().contains("Members asked for next year's figures by ward."), "{}", browser.text());
}
