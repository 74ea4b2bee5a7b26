// The chair's signing page. A key file is read in this browser and its
// private key imported into WebCrypto as non-extractable; it signs the
// statement's exact bytes with Ed25519, and only the signature and the
// public key are sent. The same goes for a key's proof of possession.
(function () {
  "use strict";
  var root = document.getElementById("signing");
  if (!root) return;
  var meeting = root.getAttribute("data-meeting");
  var signer = root.getAttribute("data-signer");
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrf = csrfMeta ? csrfMeta.content : "";
  var statusBox = document.getElementById("sign-status");

  function say(text, isError) {
    statusBox.textContent = text;
    statusBox.classList.toggle("error", !!isError);
    statusBox.hidden = false;
    statusBox.focus && statusBox.setAttribute("tabindex", "-1");
  }
  function formError(form, text) {
    var box = form.querySelector(".form-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function base64(bytes) {
    var text = "";
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text);
  }
  function base64FromUrl(text) {
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) padded += "=";
    return padded;
  }

  // A key file: a JSON Web Key (RFC 8037) with its private part.
  function readKey(input) {
    var file = input.files && input.files[0];
    if (!file) return Promise.reject(new Error("choose your key file"));
    return file.text().then(function (text) {
      var jwk = JSON.parse(text);
      if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
        throw new Error("this is not an Ed25519 private key file");
      }
      var key = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d };
      return crypto.subtle.importKey("jwk", key, { name: "Ed25519" }, false, ["sign"]).then(function (privateKey) {
        return { privateKey: privateKey, publicKey: base64FromUrl(jwk.x) };
      });
    });
  }

  function sign(key, text) {
    return crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, new TextEncoder().encode(text)).then(base64);
  }

  function post(path, body, withEtag) {
    var headers = { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": crypto.randomUUID() };
    var etag = withEtag
      ? fetch("/v1/meetings/" + encodeURIComponent(meeting), { credentials: "same-origin" }).then(function (r) { return r.headers.get("ETag"); })
      : Promise.resolve(null);
    return etag.then(function (tag) {
      if (tag) headers["If-Match"] = tag;
      return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" });
    }).then(function (response) {
      if (response.status === 201) return response.json();
      return response.json().then(function (problem) { throw new Error(problem.detail || problem.title); });
    });
  }

  var statementBox = document.getElementById("statement");
  var statement = statementBox ? statementBox.textContent : null;

  function submitSignature(publicKey, signature) {
    return post("/v1/meetings/" + encodeURIComponent(meeting) + "/signatures",
      { signer: signer, public_key: publicKey, statement: statement, signature: signature }, true);
  }

  function onSubmit(id, work) {
    var form = document.getElementById(id);
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      formError(form, "");
      work(form).catch(function (error) {
        formError(form, "Not done: " + error.message);
        say("Not done: " + error.message, true);
      });
    });
  }

  onSubmit("sign-with-key", function () {
    return readKey(document.getElementById("key-file"))
      .then(function (key) {
        return sign(key, statement).then(function (signature) { return submitSignature(key.publicKey, signature); });
      })
      .then(function () { say("Signed. The minutes now carry your signature."); });
  });

  onSubmit("sign-offline", function () {
    return submitSignature(document.getElementById("offline-public-key").value.trim(),
      document.getElementById("offline-signature").value.trim())
      .then(function () { say("Signed. The minutes now carry your signature."); });
  });

  onSubmit("register-key", function (form) {
    var template = form.getAttribute("data-template");
    return readKey(document.getElementById("register-key-file")).then(function (key) {
      var text = template.replace("{public_key}", key.publicKey);
      return sign(key, text).then(function (proof) {
        return post("/v1/people/" + encodeURIComponent(signer) + "/keys", { public_key: key.publicKey, proof: proof }, false);
      }).then(function () { say("Your key is registered: " + key.publicKey); });
    });
  });
})();
