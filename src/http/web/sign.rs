//! The chair's signing page: the statement to sign and the minutes it
//! pins, signed in the browser with WebCrypto Ed25519 from a key file the
//! chair selects (the private key never leaves the browser), or a
//! signature made offline with `minutebook sign` pasted in. The same page
//! registers a key, with the key's own signature over the key
//! registration statement as proof of possession.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use maud::html;
use minutebook_catalogue::PersonId;
use minutebook_projections::render;
use minutebook_projections::view::{self, Audience};

use super::{page, trusted, Page, PageError};
use crate::domain::key_registration_statement;
use crate::http::session::{cookie_token, csrf_token};
use crate::http::state::AppState;
use crate::policy::tokens::Caller;

/// Where the key registration statement's public key goes: the page's
/// script puts the chosen key's there.
const PUBLIC_KEY_SLOT: &str = "{public_key}";

pub async fn sign(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Some(redirect) = super::sign_in_first(&caller, &format!("/meetings/{id}/sign")) {
        return redirect;
    }
    let csrf = cookie_token(&headers).map(csrf_token);
    let state2 = state.clone();
    page(state, caller, move |record, log, caller| {
        let meeting = super::pages::meeting_of(record, &id)?;
        let body = super::pages::body_of(record, meeting.body.as_str())?;
        let date = render::long_date(&meeting.date.to_string());
        let signer = caller.person.as_deref().and_then(|p| PersonId::new(p).ok());
        let statement = match state2.recorder.statement_from(record, &meeting.id) {
            Ok(statement) => Ok(statement.to_text()),
            Err(crate::domain::CommandError::Refused(refusal)) => Err(refusal.message),
            Err(error) => return Err(PageError::Internal(error.to_string())),
        };
        let key_template = signer.as_ref().map(|person| {
            key_registration_statement(log.verifier().name(), person, &[0u8; 32])
                .replace(&BASE64.encode([0u8; 32]), PUBLIC_KEY_SLOT)
        });
        let keys = signer.as_ref().and_then(|p| record.people.get(p)).map(|p| p.keys.clone()).unwrap_or_default();
        let minutes = view::minutes(record, &meeting.id, Audience::Entitled).map(|m| render::html(&m)).unwrap_or_default();
        Ok(Page {
            title: format!("Sign the minutes: {}, {date}", body.name),
            crumbs: vec![
                (body.name.clone(), format!("/bodies/{}", body.id)),
                (date.clone(), format!("/meetings/{}", meeting.id)),
                ("Sign".to_owned(), format!("/meetings/{}/sign", meeting.id)),
            ],
            csrf,
            content: html! {
                h1 { "Sign the minutes of " (body.name) ", " (date) }
                div #signing data-meeting=(meeting.id) data-signer=[signer.as_ref()] {
                    div #sign-status .notice role="status" aria-live="polite" hidden {}
                    @match &statement {
                        Err(why) => { p.notice { "These minutes cannot be signed yet: " (why) } },
                        Ok(text) => {
                            p {
                                "You sign this statement. It names the minutes, the meeting and minute that confirmed them, "
                                "the log's tree as it stands, and the digests of the meeting's events and of the minutes' text: "
                                "your signature covers exactly what was confirmed."
                            }
                            pre #statement { (text) }
                            @if signer.is_none() {
                                p.notice { "Sign in as the chair (a member's token) to sign." }
                            } @else {
                                form #sign-with-key {
                                    fieldset {
                                        legend { "Sign in this browser" }
                                        p.small { "Your key file stays in this browser: only the signature is sent." }
                                        label for="key-file" { "Your key file (from minutebook keys generate)" }
                                        input #key-file type="file" accept=".jwk,.json,application/json" required;
                                        p.form-error role="alert" hidden {}
                                        button type="submit" { "Sign the minutes" }
                                    }
                                }
                                form #sign-offline {
                                    fieldset {
                                        legend { "Or send a signature made offline" }
                                        p.small { "Save the statement above to a file exactly as shown, then run "
                                            code { "minutebook sign --key YOUR-KEY.jwk statement.txt" } "." }
                                        label for="offline-public-key" { "Your public key (base64)" }
                                        input #offline-public-key type="text" required;
                                        label for="offline-signature" { "The signature (base64)" }
                                        textarea #offline-signature rows="2" required {}
                                        p.form-error role="alert" hidden {}
                                        button type="submit" { "Send the signature" }
                                    }
                                }
                            }
                        },
                    }
                    @if let Some(template) = &key_template {
                        section aria-labelledby="keys" {
                            h2 #keys { "Your signing keys" }
                            @if keys.is_empty() {
                                p { "You have no registered key: register one before you sign." }
                            } @else {
                                ul {
                                    @for key in &keys {
                                        li {
                                            code.hash { (BASE64.encode(key.public_key)) }
                                            @if key.revoked_at.is_some() { " (revoked)" } @else { " (registered)" }
                                        }
                                    }
                                }
                            }
                            form #register-key data-template=(template) {
                                fieldset {
                                    legend { "Register a key" }
                                    p.small { "The key signs a registration statement naming you, as proof that you hold it." }
                                    label for="register-key-file" { "Key file" }
                                    input #register-key-file type="file" accept=".jwk,.json,application/json" required;
                                    p.form-error role="alert" hidden {}
                                    button type="submit" { "Register the key" }
                                }
                            }
                        }
                    }
                    details {
                        summary { "The minutes this statement pins" }
                        div.pinned { (trusted(minutes)) }
                    }
                }
                script src="/static/sign.js" defer {}
            },
        })
    })
    .await
}
