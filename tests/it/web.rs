//! The web pages in a real browser: headless Chromium against the demo
//! server, with axe-core's accessibility checks and screenshots in
//! target/screenshots.

use serde_json::{json, Value};

use crate::webdriver::{processes_naming, Browser, Demo};

/// A page with everything axe-core asks of a document, and a form that
/// echoes what is typed into it when its button is clicked.
const ACCESSIBLE_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Accessible</title></head>
<body>
<main>
<h1>Minutes</h1>
<label for="reference">Reference</label>
<input id="reference" type="text" value="draft">
<button type="button" onclick="document.querySelector('output').value = document.getElementById('reference').value">Show</button>
<output>nothing yet</output>
</main>
</body>
</html>"#;

/// An image without a text alternative and an input without a label.
const INACCESSIBLE_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Inaccessible</title></head>
<body>
<main>
<h1>Minutes</h1>
<img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'/>">
<input type="text">
</main>
</body>
</html>"#;

/// Replaces the current document with `html`.
fn write_page(browser: &Browser, html: &str) {
    browser.goto("about:blank");
    browser.execute("document.open(); document.write(arguments[0]); document.close();", vec![json!(html)]);
}

#[test]
fn the_browser_drives_chromium_against_the_demo_server() {
    let demo = Demo::start();
    let browser = Browser::start();

    browser.goto(&demo.url("/v1/bodies"));
    let text = browser.text();
    assert!(text.contains("Riverside Communities Scrutiny Panel"), "{text}");
    assert!(text.contains("Licensing and Regulatory Committee"), "{text}");
    browser.goto(&demo.url("/openapi.json"));
    assert_eq!(browser.url(), demo.url("/openapi.json"));
    assert!(browser.text().contains("\"openapi\""));
    let screenshot = std::fs::read(browser.screenshot("smoke")).unwrap();
    // The PNG's IHDR chunk: width and height, big-endian (PNG §11.2.2).
    let height_px = u32::from_be_bytes(screenshot[20..24].try_into().unwrap());
    assert!(height_px > 1_600, "the whole page, not the window's 1600 pixels: {height_px}");

    write_page(&browser, ACCESSIBLE_PAGE);
    assert_eq!(browser.title(), "Accessible");
    browser.clear("#reference");
    browser.type_into("#reference", "M-394");
    browser.click("button");
    assert_eq!(browser.execute("return document.querySelector('output').value;", vec![]), "M-394");
    browser.assert_accessible("the accessible page");

    write_page(&browser, INACCESSIBLE_PAGE);
    let found: Vec<(Value, Value, Value)> = browser
        .axe()
        .into_iter()
        .map(|violation| (violation["id"].clone(), violation["impact"].clone(), violation["targets"].clone()))
        .collect();
    let expected = [
        (json!("image-alt"), json!("critical"), json!(["img"])),
        (json!("label"), json!("critical"), json!(["input"])),
    ];
    assert_eq!(found, expected);

    let profile = browser.profile_dir().to_owned();
    drop(browser);
    assert_eq!(processes_naming(&profile), Vec::<u32>::new(), "Chromium outlived its session");
}
