// The clerk's console. Each form.command is one API command: its fields,
// named as the command's JSON (dots for nesting), are sent with the
// meeting's ETag as If-Match, the page's CSRF token, and an idempotency key
// kept with the text until the command is acknowledged. So:
// - another clerk's change is never overwritten: a 412 shows what changed,
//   and the clerk applies theirs again or discards it;
// - a lost connection loses nothing: what was typed stays in the page (and
//   in this browser's storage) until the server says it is recorded, and
//   sending it again cannot record it twice.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) return;
  var meeting = root.getAttribute("data-meeting");
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrf = csrfMeta ? csrfMeta.content : "";
  var statusBox = document.getElementById("console-status");
  var conflictBox = document.getElementById("conflict");
  var storagePrefix = "minutebook:" + meeting + ":";
  var pendingConflict = null;

  function state() { return document.getElementById("console-state"); }
  function version() { return parseInt(state().getAttribute("data-version"), 10); }

  function say(text, isError) {
    statusBox.textContent = text;
    statusBox.classList.toggle("error", !!isError);
    statusBox.hidden = false;
  }

  // What a form records, in words: its legend, or its button's label.
  function formName(form) {
    var legend = form.querySelector("legend");
    if (legend) return legend.textContent;
    var button = form.querySelector("button[type=submit]");
    return button ? (button.getAttribute("aria-label") || button.textContent) : "the change";
  }

  function formError(form, text) {
    var box = form.querySelector(".form-error");
    if (!box) return say(text, true);
    box.textContent = text || "";
    box.hidden = !text;
  }

  // ---- what a form says, as JSON
  function enabled(field) {
    if (field.disabled || !field.name) return false;
    var fieldset = field.closest("fieldset[disabled]");
    return !fieldset;
  }

  function setPath(object, path, value) {
    var keys = path.split(".");
    var at = object;
    for (var i = 0; i < keys.length - 1; i++) {
      if (typeof at[keys[i]] !== "object" || at[keys[i]] === null) at[keys[i]] = {};
      at = at[keys[i]];
    }
    at[keys[keys.length - 1]] = value;
  }

  function collect(form) {
    var body = {};
    var pathValues = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!enabled(field) || field.type === "submit" || field.type === "button") return;
      var type = field.getAttribute("data-type");
      var value;
      if (type === "bool") {
        value = field.checked;
      } else if (type === "list") {
        value = Array.prototype.filter.call(field.options, function (o) { return o.selected && o.value; })
          .map(function (o) { return o.value; });
      } else {
        value = field.value;
        if (value === "" && field.hasAttribute("data-optional")) return;
        if (type === "number") value = parseInt(value, 10);
        if (type === "bool-choice") value = value === "true";
      }
      var name = field.name;
      var as = form.querySelector("[name=as]");
      if (as && as.value === "guest" && field.getAttribute("data-alias-guest")) name = field.getAttribute("data-alias-guest");
      if (field.hasAttribute("data-path-only")) { pathValues[name] = value; return; }
      setPath(body, name, value);
    });
    // A casting vote needs both who and which way; without a way there is none.
    if (body.casting_vote && body.casting_vote.in_favour === undefined) delete body.casting_vote;
    return { body: body, pathValues: pathValues };
  }

  function pathOf(form, pathValues) {
    return form.getAttribute("data-path").replace(/\{(\w+)\}/g, function (_, name) {
      return encodeURIComponent(pathValues[name]);
    });
  }

  // ---- keeping what was typed until it is saved
  function textFields(form) {
    return Array.prototype.filter.call(form.elements, function (f) {
      return f.tagName === "TEXTAREA" || (f.tagName === "INPUT" && (f.type === "text" || f.type === "time" || f.type === "date"));
    });
  }
  function keep(form) {
    if (!form.id) return;
    var values = {};
    textFields(form).forEach(function (f) { values[f.name] = f.value; });
    try { localStorage.setItem(storagePrefix + form.id, JSON.stringify(values)); } catch (e) { /* private mode */ }
  }
  function forget(form) {
    try { localStorage.removeItem(storagePrefix + form.id); } catch (e) { /* private mode */ }
  }
  function restore(form) {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(storagePrefix + form.id) || "null"); } catch (e) { saved = null; }
    if (!saved) return;
    var restored = false;
    textFields(form).forEach(function (f) {
      if (saved[f.name]) { f.value = saved[f.name]; restored = true; }
    });
    if (restored) formError(form, "Not yet saved: what you typed before is back. Save it, or clear it.");
  }

  // ---- the parts of the page drawn again after each command
  function refresh() {
    return fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        fresh.querySelectorAll("[data-refresh]").forEach(function (part) {
          var here = document.getElementById(part.id);
          if (here) here.replaceWith(part);
        });
        fresh.querySelectorAll("[data-refresh-options]").forEach(function (select) {
          var here = document.getElementById(select.id);
          if (!here) return;
          var chosen = here.value;
          here.innerHTML = select.innerHTML;
          if (select.value && select.id.indexOf("item") < 0 && chosen) here.value = chosen;
        });
        var next = state().getAttribute("data-next-item");
        var take = document.getElementById("take-item-number");
        if (take) take.value = next || "";
      });
  }

  function etagOf(meetingId) {
    return fetch("/v1/meetings/" + encodeURIComponent(meetingId), { credentials: "same-origin" })
      .then(function (r) { return r.headers.get("ETag"); });
  }

  // ---- sending a command
  function send(form, pending) {
    var headers = {
      "Content-Type": "application/json",
      "X-CSRF-Token": csrf,
      "Idempotency-Key": pending.key,
    };
    var ifMatch = form.querySelector("[data-if-match-of]");
    var noIfMatch = form.querySelector("[data-no-if-match]");
    var etag = noIfMatch ? Promise.resolve(null)
      : ifMatch ? etagOf(pending.pathValues[ifMatch.name])
      : Promise.resolve('"' + pending.basedOn + '"');
    formError(form, "");
    return etag.then(function (tag) {
      if (tag) headers["If-Match"] = tag;
      return fetch(pending.path, { method: "POST", headers: headers, body: JSON.stringify(pending.body), credentials: "same-origin" });
    }).then(function (response) {
      if (response.status === 201) {
        forget(form);
        textFields(form).forEach(function (f) { if (f.tagName === "TEXTAREA" || f.type === "text") f.value = ""; });
        // Said once the page shows it, so that the clerk reads the
        // minutes as they now stand.
        return refresh().then(function () { say("Recorded: " + formName(form) + "."); });
      }
      return response.json().then(function (problem) {
        if (response.status === 412) return conflict(form, pending, problem);
        formError(form, problem.detail || problem.title || ("refused: " + response.status));
        say("Not recorded: " + (problem.detail || response.status), true);
      });
    }, function () {
      keep(form);
      formError(form, "Not saved: the connection failed. What you typed is kept here; press the button again to send it.");
      say("Not saved: no connection to the server.", true);
    });
  }

  // ---- another clerk changed the meeting
  function conflict(form, pending, problem) {
    pendingConflict = { form: form, pending: pending };
    var since = pending.basedOn;
    document.getElementById("conflict-text").textContent =
      "Another clerk changed this meeting since you loaded it, so your " +
      formName(form).toLowerCase() + " was not recorded. What changed:";
    var list = document.getElementById("conflict-changes");
    list.textContent = "";
    return fetch("/v1/meetings/" + encodeURIComponent(meeting) + "/trail", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (trail) {
        (trail.trail || []).filter(function (e) { return e.stream_version > since; }).forEach(function (e) {
          var li = document.createElement("li");
          li.textContent = e.recorded_at + ", " + e.actor + ": " + e.summary;
          list.appendChild(li);
        });
        conflictBox.hidden = false;
        document.getElementById("conflict-reapply").focus();
        return refresh();
      });
  }

  document.getElementById("conflict-reapply").addEventListener("click", function () {
    if (!pendingConflict) return;
    var again = pendingConflict;
    pendingConflict = null;
    conflictBox.hidden = true;
    again.pending.basedOn = version();
    send(again.form, again.pending);
  });
  document.getElementById("conflict-discard").addEventListener("click", function () {
    if (pendingConflict) forget(pendingConflict.form);
    pendingConflict = null;
    conflictBox.hidden = true;
    say("Your change was discarded.");
  });

  // ---- the forms
  function newKey() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  // Listened for on the document: parts of the page (the attendance rows)
  // are drawn again after each command, forms and all.
  document.querySelectorAll("form.command").forEach(restore);
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.classList.contains("command")) keep(form);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("command")) return;
    event.preventDefault();
    var collected = collect(form);
    var pending = {
      key: newKey(),
      body: collected.body,
      pathValues: collected.pathValues,
      path: pathOf(form, collected.pathValues),
      basedOn: version(),
    };
    keep(form);
    send(form, pending);
  });

  // The vote's fieldsets follow the kind of vote chosen.
  document.querySelectorAll("[data-switch]").forEach(function (select) {
    var name = select.getAttribute("data-switch");
    function follow() {
      document.querySelectorAll("fieldset[data-when^='" + name + "=']").forEach(function (fieldset) {
        fieldset.disabled = fieldset.getAttribute("data-when") !== name + "=" + select.value;
        fieldset.hidden = fieldset.disabled;
      });
    }
    select.addEventListener("change", follow);
    follow();
  });

  // ---- the keyboard
  document.addEventListener("keydown", function (event) {
    if (event.altKey && (event.key === "n" || event.key === "N")) {
      event.preventDefault();
      var take = document.getElementById("take-item");
      if (take) take.requestSubmit();
    } else if (event.altKey && (event.key === "p" || event.key === "P")) {
      event.preventDefault();
      var point = document.getElementById("point-text");
      if (point) point.focus();
    } else if (event.ctrlKey && event.key === "Enter") {
      var form = event.target.form;
      if (form && form.classList.contains("command")) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });
})();
