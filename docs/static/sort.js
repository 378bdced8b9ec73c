/* Click a column header to sort its table; click again to reverse.
 * Tables opt in with class="sortable"; each sortable header is a <th> holding a <button>, with
 * data-kind="num"|"text" and, for numbers, data-dir="higher"|"lower" (the first click puts the best first).
 * Cells sort by their data-sort attribute (empty = missing, always last), else by their text.
 * Each <tbody> is sorted on its own (the main table keeps the paper's baselines, the added methods and the
 * controls apart); a row with class "band" (a group's heading) stays first in its <tbody>.
 * The server renders the default order, so the tables are complete without JavaScript. */
(function () {
  "use strict";

  function sortKey(cell, kind) {
    if (!cell) return null;
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (kind === "num") {
      var n = parseFloat(raw);
      return isFinite(n) ? n : null;
    }
    return raw === "" ? null : raw.toLowerCase();
  }

  function sortBy(table, th) {
    var kind = th.getAttribute("data-kind") || "text";
    var state = th.getAttribute("aria-sort");
    var ascending;
    if (state === "ascending") ascending = false;
    else if (state === "descending") ascending = true;
    else ascending = !(kind === "num" && th.getAttribute("data-dir") === "higher");
    var index = th.cellIndex;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains("band"); });
      rows.sort(function (a, b) {
        var x = sortKey(a.cells[index], kind), y = sortKey(b.cells[index], kind);
        if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);
        var c = x < y ? -1 : (x > y ? 1 : 0);
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
    var headers = th.parentNode.cells;
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var head = table.tHead;
    if (!head) return;
    var row = head.rows[head.rows.length - 1];
    Array.prototype.forEach.call(row.cells, function (th) {
      var button = th.querySelector("button");
      if (button) button.addEventListener("click", function () { sortBy(table, th); });
    });
  });
})();
