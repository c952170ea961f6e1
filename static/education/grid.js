// The marks grid (education/assessment_views.py: grid): a plain form made into a spreadsheet-like
// grid. Arrows and Enter move between cells, Tab too; a block pasted from a spreadsheet fills the
// cells from the focused one; changed cells are saved as you go (debounced JSON POST with the
// versions shown), each cell showing saved / its error / a conflict with the other person's value.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("grid-form");
    if (!form || !form.dataset.saveUrl || !document.getElementById("grid-save")) { return; }
    var table = document.getElementById("grid");
    var rows = Array.prototype.map.call(table.tBodies[0].rows, function (tr) {
      return Array.prototype.slice.call(tr.querySelectorAll("td.cell input[data-version]"));
    });
    var dirty = new Set();
    var timer = null;
    var inFlight = false;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

    function position(input) {
      for (var r = 0; r < rows.length; r++) {
        var c = rows[r].indexOf(input);
        if (c >= 0) { return [r, c]; }
      }
      return null;
    }
    function at(r, c) { return rows[r] && rows[r][c]; }
    function move(input, dr, dc) {
      var p = position(input);
      if (!p) { return; }
      var next = at(p[0] + dr, p[1] + dc);
      if (next) { next.focus(); next.select(); }
    }
    function cellOf(input) { return input.closest("td"); }
    function statusOf(input) { return cellOf(input).querySelector(".cell-status"); }
    function hidden(input, prefix) {
      return form.querySelector("input[name='" + prefix + input.name.slice(2) + "']");
    }
    function setStatus(input, kind, text) {
      var td = cellOf(input);
      td.classList.remove("saved", "error", "conflict", "saving");
      if (kind) { td.classList.add(kind); }
      var box = statusOf(input);
      box.textContent = "";
      if (text) {
        var span = document.createElement("span");
        span.className = kind === "saved" ? "cell-ok" : "cell-error";
        span.textContent = text;
        box.appendChild(span);
      }
    }
    function markDirty(input) {
      if (input.readOnly) { return; }
      dirty.add(input);
      schedule(700);
    }
    function schedule(ms) {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, ms);
    }
    function accept(input, value, version) {
      input.value = value;
      input.dataset.version = String(version);
      input.dataset.shown = value;
      hidden(input, "v_").value = String(version);
      hidden(input, "o_").value = value;
    }
    function conflict(input, result) {
      setStatus(input, "conflict", result.message);
      var box = statusOf(input);
      var their = document.createElement("span");
      their.className = "cell-other";
      their.textContent = " " + form.dataset.their + " " + (result.other_value || "∅") +
        (result.other_by ? " (" + result.other_by + ", " + result.other_at + ")" : "");
      box.appendChild(their);
      var keep = document.createElement("button");
      keep.type = "button"; keep.className = "link keep"; keep.textContent = form.dataset.keep;
      keep.addEventListener("click", function () {
        accept(input, result.other_value || "", result.version);
        setStatus(input, "saved", form.dataset.saved);
      });
      var over = document.createElement("button");
      over.type = "button"; over.className = "link overwrite"; over.textContent = form.dataset.overwrite;
      over.addEventListener("click", function () {
        input.dataset.version = String(result.version);
        hidden(input, "v_").value = String(result.version);
        dirty.add(input);
        save();
      });
      box.appendChild(keep);
      box.appendChild(over);
    }
    function save() {
      timer = null;
      if (inFlight) { schedule(300); return; }
      var inputs = Array.from(dirty);
      dirty.clear();
      if (!inputs.length) { return; }
      var cells = inputs.map(function (input) {
        setStatus(input, "saving", form.dataset.saving);
        return {enrolment: input.closest("tr").dataset.enrolment, column: cellOf(input).dataset.column,
                value: input.value, version: Number(input.dataset.version || 0)};
      });
      inFlight = true;
      fetch(form.dataset.saveUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
        body: JSON.stringify({cells: cells})
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (answer) {
        inFlight = false;
        if (!answer.ok) {
          inputs.forEach(function (input) { setStatus(input, "error", answer.body.detail || form.dataset.failed); });
          return;
        }
        answer.body.cells.forEach(function (result, i) {
          var input = inputs[i];
          if (result.status === "saved") {
            accept(input, result.value, result.version);
            setStatus(input, "saved", form.dataset.saved);
          } else if (result.status === "conflict") {
            conflict(input, result);
          } else {
            setStatus(input, "error", result.message);
          }
        });
        Object.keys(answer.body.computed || {}).forEach(function (enrolment) {
          var td = table.querySelector("td[data-computed='" + enrolment + "']");
          if (td) { td.textContent = answer.body.computed[enrolment]; }
        });
      }).catch(function () {
        inFlight = false;
        inputs.forEach(function (input) { dirty.add(input); setStatus(input, "error", form.dataset.failed); });
      });
    }

    table.addEventListener("focusin", function (event) {
      if (event.target.matches("input[data-version]")) { event.target.select(); }
    });
    table.addEventListener("input", function (event) {
      if (event.target.matches("input[data-version]")) { markDirty(event.target); }
    });
    table.addEventListener("keydown", function (event) {
      var input = event.target;
      if (!input.matches("input[data-version]")) { return; }
      var start = input.selectionStart, end = input.selectionEnd, length = input.value.length;
      var whole = start === 0 && end === length;
      if (event.key === "Enter") {
        event.preventDefault();
        if (dirty.size) { schedule(0); }
        move(input, event.shiftKey ? -1 : 1, 0);
      } else if (event.key === "ArrowDown") {
        event.preventDefault(); move(input, 1, 0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault(); move(input, -1, 0);
      } else if (event.key === "ArrowRight" && (whole || end === length)) {
        event.preventDefault(); move(input, 0, 1);
      } else if (event.key === "ArrowLeft" && (whole || start === 0)) {
        event.preventDefault(); move(input, 0, -1);
      }
    });
    table.addEventListener("paste", function (event) {
      var input = event.target;
      if (!input.matches("input[data-version]")) { return; }
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (text.indexOf("\t") < 0 && text.indexOf("\n") < 0) { return; }
      event.preventDefault();
      var lines = text.replace(/\r/g, "").split("\n");
      if (lines.length && lines[lines.length - 1] === "") { lines.pop(); }
      var p = position(input);
      lines.forEach(function (line, dr) {
        line.split("\t").forEach(function (value, dc) {
          var target = at(p[0] + dr, p[1] + dc);
          if (target && !target.readOnly) { target.value = value.trim(); markDirty(target); }
        });
      });
      schedule(0);
    });
    table.addEventListener("focusout", function (event) {
      if (dirty.size && event.target.matches("input[data-version]")) { schedule(150); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      rows.forEach(function (row) {
        row.forEach(function (input) { if (input.value !== input.dataset.shown) { dirty.add(input); } });
      });
      save();
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
