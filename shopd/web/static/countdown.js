// Flash-sale countdowns: the page says when the sale ends; this shows the time left, each second.
// Without JavaScript the end time stays readable as it is.
(function () {
  "use strict";
  var clocks = document.querySelectorAll("time.countdown[datetime]");
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    clocks.forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      if (left <= 0) { el.textContent = "0:00:00"; el.classList.add("over"); return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      var left_text = (d ? d + "d " : "") + h + ":" + pad(m) + ":" + pad(s);
      el.textContent = (el.dataset.left || "{t}").replace("{t}", left_text);
    });
  }
  if (clocks.length) { tick(); setInterval(tick, 1000); }
})();
