/* The console's Embed page: a Copy button beside each snippet (without JavaScript the
   snippet's box is there to select and copy by hand), and the live iframe preview fitted
   to its form, as the snippet's own lines do on an article page (they are inline, which
   the console's policy does not run). */
(function () {
  "use strict";
  var status = document.getElementById("copy-status");

  function copied(button, text) {
    status.textContent = text;
    button.textContent = text === "Copied." ? "Copied" : "Copy";
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    button.hidden = false;
    button.addEventListener("click", function () {
      box.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(box.value).then(function () { copied(button, "Copied."); },
          function () { copied(button, "Press Ctrl+C (or ⌘C) to copy the selected snippet."); });
      } else {
        copied(button, document.execCommand("copy") ? "Copied." : "Press Ctrl+C (or ⌘C) to copy the selected snippet.");
      }
    });
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || event.data.type !== "roster:height") { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".embed-live iframe"), function (frame) {
      var height = Number(event.data.height);
      if (event.source === frame.contentWindow && height > 0 && height < 5000) {
        frame.style.height = Math.ceil(height) + "px";
      }
    });
  });
})();
