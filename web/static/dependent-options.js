// A select whose options depend on another field (data-depends-on="f-channel", each option's data-when
// lists the values of that field it belongs to): only the options of the chosen value are offered.
// The server checks the same rule; without this script every option is shown and a wrong one is refused.
(function () {
  function update(select, parent) {
    var chosen = parent.value;
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.hasAttribute('data-when')) { return; }
      var offered = chosen !== '' && JSON.parse(option.getAttribute('data-when')).indexOf(chosen) !== -1;
      option.hidden = !offered;
      option.disabled = !offered;
      if (!offered && option.selected) { select.value = ''; }
    });
  }
  document.querySelectorAll('select[data-depends-on]').forEach(function (select) {
    var parent = document.getElementById(select.getAttribute('data-depends-on'));
    if (!parent) { return; }
    update(select, parent);
    parent.addEventListener('change', function () { update(select, parent); });
  });
})();
