// Printing shows every collapsed section (reasons, studies, survival detail), so a printout
// keeps everything the screen can show; the sources list at the end is printed either way.
"use strict";
(function () {
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("open", "");
      opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.removeAttribute("open"); });
    opened = [];
  });
})();
