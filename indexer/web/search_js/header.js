// The header's search box searches the documentation pages by keyword (MkDocs' own search). This leads
// questions about lessons to the "Has anyone tried this?" page: a link above the keyword results, and Enter.
(function () {
  var page = new URL("../../search/", document.currentScript.src);
  function target(query) {
    var url = new URL(page);
    url.searchParams.set("q", query);
    return url.href;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("input.md-search__input");
    var output = document.querySelector(".md-search__output");
    if (!input || !output) return;
    var link = document.createElement("a");
    link.className = "lesson-search-link";
    link.hidden = true;
    output.prepend(link);
    input.addEventListener("input", function () {
      var query = input.value.trim();
      link.hidden = !query;
      link.href = target(query);
      link.textContent = "Has anyone tried this? Search the lessons for \u201c" + query + "\u201d \u2192";
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && input.value.trim()) {
        event.preventDefault();
        event.stopImmediatePropagation();
        window.location.href = target(input.value.trim());
      }
    }, true);
  });
})();
