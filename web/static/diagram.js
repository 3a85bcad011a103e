// The trace diagram (办理路径), zoomable and pannable: the server draws an SVG whose steps are links
// and which scrolls in its box without JavaScript; this script turns the box into a viewport —
// buttons 放大 / 缩小 / 适合屏幕 / 原始大小, dragging (one finger or the mouse) to move, two fingers or
// Ctrl + wheel to zoom, and on the focused box the arrow keys to move, + / - to zoom, 0 to fit.
// The labels stay sharp at any size: only the SVG's viewBox changes. Clicking a step keeps the view
// (for this tab), so the page it opens shows the diagram as it was.
(function () {
  'use strict';
  var MIN = 0.1, MAX = 8, STEP = 1.25, KEY_MOVE = 60;

  function setUp(figure) {
    var box = figure.querySelector('.diagram-scroll');
    var svg = box && box.querySelector('svg');
    if (!svg) { return; }
    var full = svg.viewBox.baseVal;
    var whole = { x: full.x, y: full.y, w: full.width, h: full.height };
    var view = { x: whole.x, y: whole.y, w: whole.w, h: whole.h };

    box.classList.add('diagram-zoomable');
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    box.setAttribute('aria-label', '流程图:拖动或用方向键移动,Ctrl+滚轮、双指或加号减号缩放,0 键适合屏幕');
    box.setAttribute('aria-describedby', figure.id + '-zoom');

    var bar = document.createElement('div');
    bar.className = 'diagram-tools';
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', '流程图缩放');
    var level = document.createElement('output');
    level.id = figure.id + '-zoom';
    level.className = 'diagram-level';
    level.setAttribute('aria-live', 'polite');
    [['放大', function () { zoom(STEP); }], ['缩小', function () { zoom(1 / STEP); }],
     ['适合屏幕', fit], ['原始大小', actual]].forEach(function (item) {
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = item[0];
      button.addEventListener('click', item[1]);
      bar.appendChild(button);
    });
    bar.appendChild(level);
    figure.insertBefore(bar, box);

    function pixels() {  // SVG units per screen pixel
      var rect = svg.getBoundingClientRect();
      return Math.max(view.w / (rect.width || 1), view.h / (rect.height || 1));
    }

    function show() {
      svg.setAttribute('viewBox', [view.x, view.y, view.w, view.h].join(' '));
      level.textContent = '显示比例 ' + Math.round(100 / pixels()) + '%';
    }

    function zoom(factor, cx, cy) {
      var scale = whole.w / view.w * factor;
      if (scale < MIN || scale > MAX) { return; }
      cx = cx === undefined ? view.x + view.w / 2 : cx;
      cy = cy === undefined ? view.y + view.h / 2 : cy;
      view.x = cx - (cx - view.x) / factor;
      view.y = cy - (cy - view.y) / factor;
      view.w /= factor;
      view.h /= factor;
      show();
    }

    function fit() {
      view = { x: whole.x, y: whole.y, w: whole.w, h: whole.h };
      show();
    }

    function actual() {  // one SVG unit per screen pixel, from the top left
      var rect = svg.getBoundingClientRect();
      view = { x: whole.x, y: whole.y, w: rect.width, h: rect.height };
      show();
    }

    function move(dx, dy) {  // in screen pixels
      var unit = pixels();
      view.x -= dx * unit;
      view.y -= dy * unit;
      show();
    }

    function at(event) {  // the SVG point under the pointer
      var rect = svg.getBoundingClientRect(), unit = pixels();
      return [view.x + (event.clientX - rect.left - (rect.width - view.w / unit) / 2) * unit,
              view.y + (event.clientY - rect.top - (rect.height - view.h / unit) / 2) * unit];
    }

    var pointers = {}, moved = false, spread = 0;
    box.addEventListener('pointerdown', function (event) {
      pointers[event.pointerId] = [event.clientX, event.clientY];
      moved = false;
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        spread = Math.hypot(pointers[ids[0]][0] - pointers[ids[1]][0], pointers[ids[0]][1] - pointers[ids[1]][1]);
      }
    });
    box.addEventListener('pointermove', function (event) {
      var last = pointers[event.pointerId];
      if (!last) { return; }
      var dx = event.clientX - last[0], dy = event.clientY - last[1];
      pointers[event.pointerId] = [event.clientX, event.clientY];
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        var now = Math.hypot(pointers[ids[0]][0] - pointers[ids[1]][0], pointers[ids[0]][1] - pointers[ids[1]][1]);
        if (spread) { zoom(now / spread); }
        spread = now;
        moved = true;
      } else if (moved || Math.abs(dx) + Math.abs(dy) > 3) {
        if (!moved) { box.setPointerCapture(event.pointerId); }
        moved = true;
        move(dx, dy);
      }
    });
    function release(event) { delete pointers[event.pointerId]; spread = 0; }
    box.addEventListener('pointerup', release);
    box.addEventListener('pointercancel', release);
    box.addEventListener('click', function (event) {  // a drag is not a click on a step
      if (moved) { event.preventDefault(); moved = false; }
    }, true);
    box.addEventListener('wheel', function (event) {
      if (!event.ctrlKey) { return; }
      event.preventDefault();
      var point = at(event);
      zoom(event.deltaY < 0 ? STEP : 1 / STEP, point[0], point[1]);
    }, { passive: false });
    box.addEventListener('keydown', function (event) {
      if (event.target !== box) { return; }  // a focused step keeps Enter and its own keys
      var keys = { ArrowLeft: [KEY_MOVE, 0], ArrowRight: [-KEY_MOVE, 0], ArrowUp: [0, KEY_MOVE], ArrowDown: [0, -KEY_MOVE] };
      if (keys[event.key]) { move(keys[event.key][0], keys[event.key][1]); }
      else if (event.key === '+' || event.key === '=') { zoom(STEP); }
      else if (event.key === '-') { zoom(1 / STEP); }
      else if (event.key === '0') { fit(); }
      else { return; }
      event.preventDefault();
    });
    var memory = 'trace-view:' + location.pathname;
    box.addEventListener('click', function (event) {
      if (event.target.closest && event.target.closest('a')) {
        try { sessionStorage.setItem(memory, JSON.stringify(view)); } catch (e) { /* storage off: start fitted */ }
      }
    });
    try {
      var kept = JSON.parse(sessionStorage.getItem(memory) || 'null');
      if (kept && [kept.x, kept.y, kept.w, kept.h].every(isFinite) && kept.w > 0 && kept.h > 0) { view = kept; }
    } catch (e) { /* nothing kept */ }
    window.addEventListener('resize', show);
    show();
  }

  Array.prototype.forEach.call(document.querySelectorAll('figure.trace-diagram'), function (figure, i) {
    figure.id = figure.id || 'trace-diagram-' + (i + 1);
    setUp(figure);
  });
}());
