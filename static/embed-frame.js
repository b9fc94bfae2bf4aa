/* Roster's iframe form tells the article page around it how tall it is, so the frame fits
   its content (the thank-you is shorter than the form). Only a height is posted, so it may
   go to whichever page framed it: Roster cannot know that page's origin for sure. The
   snippet's listener takes it only from Roster's origin and from its own frame, and answers
   with the article's title, which the form sends with the sign-up. Only an allowed article
   site may frame this page (frame-ancestors), so the title is taken from the parent alone. */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var posted = 0;

  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== posted) {
      posted = height;
      window.parent.postMessage({type: "roster:height", height: height}, "*");
    }
  }

  window.addEventListener("message", function (event) {
    var field = document.querySelector("input[name=source_title]");
    if (event.source !== window.parent || !field || field.value) { return; }
    if (event.data && event.data.type === "roster:title" && typeof event.data.title === "string") {
      field.value = event.data.title.slice(0, 300);
    }
  });

  if (window.ResizeObserver) { new ResizeObserver(post).observe(document.documentElement); }
  window.addEventListener("load", post);
  post();
})();
