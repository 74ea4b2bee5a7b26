// Tells the reader of a meeting's page when its record changes. The live
// feed (Server-Sent Events) names each event by its type, and an
// EventSource hands a named event only to listeners for that name: the
// page lists the catalogue's types in data-types.
(function () {
  "use strict";
  var notice = document.getElementById("live");
  if (!notice || !window.EventSource) return;
  var stream = notice.getAttribute("data-stream");
  var source = new EventSource("/v1/events/live?from=" + encodeURIComponent(notice.getAttribute("data-from")));
  var seen = 0;
  function onEvent(message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (event.stream !== stream) return;
    seen += 1;
    var text = document.createElement("p");
    text.appendChild(document.createTextNode(seen === 1
      ? "This meeting's record has just changed. "
      : seen + " changes to this meeting's record have just been recorded. "));
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "Show the minutes as they stand now";
    text.appendChild(link);
    notice.replaceChildren(text);
    notice.hidden = false;
  }
  (notice.getAttribute("data-types") || "").split(" ").forEach(function (type) {
    if (type) source.addEventListener(type, onEvent);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
