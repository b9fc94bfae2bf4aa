/* Roster sign-up widget, no dependencies.
   <div data-roster-form data-list="slug"></div><script src=".../embed.js" async></script>
   Renders (or, if the div already holds one, enhances) a plain form that posts to
   Roster without JavaScript; with it, sends JSON to the API and answers inline. */
(function () {
  "use strict";
  var API_URL = {{ api_url|tojson }};
  var FORM_ACTION = {{ action_url|tojson }};
  var WORDING = {{ wording|tojson }};
  var FALLBACK_THANKS = {{ thanks|tojson }};
  // The widget's words, in the language this script was served in (?lang= or the reader's browser).
  var LANG = {{ page_language()|tojson }}, DIR = {{ text_direction()|tojson }};
  var TEXT = {{ {
    "required": _("* indicates required"), "full_name": _("Full Name"), "email": _("Email Address"),
    "honeypot": _("Leave this field empty"), "subscribe": _("Subscribe"),
    "correct": _("Please correct the fields marked below."), "failed": _("Something went wrong. Please try again.")
  }|tojson }};
  var HIDDEN = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden";
  // An error line as Roster's own forms show one (the article's stylesheet may restyle .roster-error).
  var ERROR_STYLE = "color:#b00020;font:600 0.9em/1.4 system-ui,sans-serif;margin:4px 0 0;padding-left:8px;" +
    "border-left:3px solid #b00020";
  var widgets = 0;

  // The article's title, as long as the API takes one.
  function articleTitle() { return document.title.slice(0, {{ title_max_length }}); }

  function make(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function textField(prefix, name, label, type, autocomplete, required) {
    var wrapper = make("div", {"class": "roster-field"});
    var labelNode = make("label", {"for": prefix + name}, label);
    if (required) { labelNode.appendChild(make("span", {"aria-hidden": "true"}, " *")); }
    var input = make("input", {id: prefix + name, name: name, type: type, autocomplete: autocomplete});
    if (required) { input.required = true; }
    wrapper.appendChild(labelNode);
    wrapper.appendChild(input);
    return wrapper;
  }

  function buildForm(container) {
    var prefix = "roster-" + (++widgets) + "-";
    var form = make("form", {method: "post", action: FORM_ACTION, novalidate: "", lang: LANG, dir: DIR});
    form.appendChild(make("input", {type: "hidden", name: "list", value: container.getAttribute("data-list") || ""}));
    form.appendChild(make("input", {type: "hidden", name: "source", value: window.location.href}));
    form.appendChild(make("input", {type: "hidden", name: "source_title", value: articleTitle()}));
    form.appendChild(make("p", {"class": "roster-note"}, TEXT.required));
    form.appendChild(textField(prefix, "full_name", TEXT.full_name, "text", "name", false));
    form.appendChild(textField(prefix, "email", TEXT.email, "email", "email", true));
    var trap = make("div", {"aria-hidden": "true", style: HIDDEN});
    trap.appendChild(make("label", {"for": prefix + "website"}, TEXT.honeypot));
    trap.appendChild(make("input", {id: prefix + "website", name: "website", type: "text", tabindex: "-1", autocomplete: "off"}));
    form.appendChild(trap);
    form.appendChild(make("p", {"class": "roster-wording"}, WORDING));
    form.appendChild(make("button", {type: "submit"}, TEXT.subscribe));
    container.appendChild(form);
    return form;
  }

  function statusRegion(form) {
    var region = form.querySelector("[data-roster-status]");
    if (!region) {
      region = make("div", {"data-roster-status": "", role: "alert", "aria-live": "assertive"});
      form.insertBefore(region, form.firstChild);
    }
    return region;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".roster-error"), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    statusRegion(form).textContent = "";
  }

  function showErrors(form, errors) {
    var unplaced = [];
    errors.forEach(function (error) {
      var input = form.elements[error.field];
      if (!input || !input.id || input.type === "hidden") { unplaced.push(error.message); return; }
      var message = make("p", {"class": "roster-error", id: input.id + "-error", style: ERROR_STYLE}, error.message);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", message.id);
      input.parentNode.appendChild(message);
    });
    statusRegion(form).textContent = unplaced.length ? unplaced.join(" ") : TEXT.correct;
    var first = form.querySelector("[aria-invalid=true]");
    if (first) { first.focus(); }
  }

  function showThanks(container, form, message) {
    var thanks = make("p", {role: "status", tabindex: "-1", "class": "roster-thanks"}, message || FALLBACK_THANKS);
    container.replaceChild(thanks, form);
    thanks.focus();
  }

  function value(form, name) {
    var input = form.elements[name];
    return input ? input.value : "";
  }

  function enhance(container) {
    var form = container.querySelector("form") || buildForm(container);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var button = form.querySelector("[type=submit]");
      if (button) { button.disabled = true; }
      var body = {
        email: value(form, "email"), full_name: value(form, "full_name"),
        list: value(form, "list") || container.getAttribute("data-list") || undefined,
        source: value(form, "source") || window.location.href,
        source_title: value(form, "source_title") || articleTitle(), website: value(form, "website")
      };
      fetch(API_URL, {
        method: "POST", credentials: "omit",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (data) { return {status: response.status, data: data}; });
      }).then(function (result) {
        if (button) { button.disabled = false; }
        if (result.status === 202) { showThanks(container, form, result.data.message); }
        else if (result.data.errors) { showErrors(form, result.data.errors); }
        else { statusRegion(form).textContent = result.data.detail || TEXT.failed; }
      }).catch(function () {
        form.submit();  // the API could not be reached: the plain form post still works
      });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-roster-form]"), function (container) {
      if (container.getAttribute("data-roster-ready")) { return; }
      container.setAttribute("data-roster-ready", "true");
      enhance(container);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
