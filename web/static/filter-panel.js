// The task list's 筛选和排序 panel: folded on a phone, so the list (and every tab above it) is on the
// first screen; open on a wider screen, where it fits beside the list. Without JavaScript it stays as
// the server sent it (open when a filter is in use).
(function () {
  var panel = document.getElementById('filter-panel');
  if (panel && window.matchMedia('(min-width: 700px)').matches) {
    panel.open = true;
  }
})();
