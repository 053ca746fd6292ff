/* Type-ahead for a kecamatan typed as text (forms with more kecamatan than a <select> lists,
 * portal/domain/places.py).
 *
 * Without this script the form works the same: the server matches the typed name. With it,
 * a moment after the typing stops, at most 20 names starting with what is typed are asked
 * from the input's data-suggest-url and put into its <datalist>.
 */
(function () {
  "use strict";

  if (!window.fetch || !window.URLSearchParams) {
    return;
  }
  var WAIT_MS = 250;
  var inputs = document.querySelectorAll("input[data-suggest-url]");
  Array.prototype.forEach.call(inputs, function (input) {
    var url = input.getAttribute("data-suggest-url");
    var list = input.list;
    if (!url || !list) {
      return;
    }
    var timer = null;
    var asked = null;

    function ask() {
      var typed = input.value.trim();
      if (typed.length < 2 || typed === asked) {
        return;
      }
      asked = typed;
      var params = new URLSearchParams();
      params.set("q", typed);
      fetch(url + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (names) {
          if (typed !== asked) {
            return;
          }
          while (list.firstChild) {
            list.removeChild(list.firstChild);
          }
          names.forEach(function (name) {
            var option = document.createElement("option");
            option.value = name;
            list.appendChild(option);
          });
        })
        .catch(function () { /* the server still matches what is typed */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT_MS);
    });
  });
})();
