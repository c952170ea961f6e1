/* The contact book's form: the count of characters and of SMS segments as the teacher types. */
(function () {
  "use strict";
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "^{}\\[~]|€";

  function segments(text) {
    if (!text) { return 0; }
    var gsm = true, units = 0, i, ch;
    for (i = 0; i < text.length; i += 1) {
      ch = text.charAt(i);
      if (EXT.indexOf(ch) >= 0) { units += 2; } else if (GSM.indexOf(ch) >= 0) { units += 1; } else { gsm = false; break; }
    }
    if (gsm) { return units <= 160 ? 1 : Math.ceil(units / 153); }
    units = text.length;  /* UTF-16 code units, as UCS-2 counts them */
    return units <= 70 ? 1 : Math.ceil(units / 67);
  }

  function update(area, chars, segs) {
    var body = area.value.replace(/\r\n/g, "\n").trim();
    chars.textContent = String(body.length);
    segs.textContent = body ? String(segments(chars.getAttribute("data-prefix") + body)) : "0";
  }

  function start() {
    var area = document.querySelector("textarea[data-sms-count]");
    var chars = document.getElementById("sms-chars");
    var segs = document.getElementById("sms-segments");
    if (!area || !chars || !segs) { return; }
    area.addEventListener("input", function () { update(area, chars, segs); });
    update(area, chars, segs);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
