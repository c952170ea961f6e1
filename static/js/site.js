/* The pages' few behaviours, in a file: the Content-Security-Policy allows no inline script and
   no style attribute, so nothing here is written into the HTML. */
(function () {
  "use strict";

  /* Progress bars carry their width as data-percent; setting it through the DOM is allowed. */
  function setWidths(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var bars = Array.prototype.slice.call(root.querySelectorAll("[data-percent]"));
    if (root.hasAttribute && root.hasAttribute("data-percent")) {
      bars.push(root);
    }
    bars.forEach(function (bar) {
      var percent = parseFloat(bar.getAttribute("data-percent"));
      if (!isNaN(percent)) {
        bar.style.width = Math.max(0, Math.min(100, percent)) + "%";
      }
    });
  }

  /* A form marked data-disable-on-submit disables its buttons once sent (no second dossier on a
     slow line); after the submission has started, so the pressed button's value is sent. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.hasAttribute && form.hasAttribute("data-disable-on-submit")) {
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
          button.disabled = true;
        });
      }, 0);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setWidths(document);
  });
  /* Content swapped in by htmx (progress that refreshes itself). */
  document.addEventListener("htmx:load", function (event) {
    setWidths(event.target);
  });
}());

/* An error summary at the top of a form takes the focus, so that a screen reader reads it and
   the keyboard starts from its links. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
