/** Validation problems: a list in Chinese, and the elements marked on the diagram. */

const MARKERS = [ 'minyi-problem', 'minyi-warning' ];

export function markProblems(modeler, problems, warnings) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  const overlays = modeler.get('overlays');
  overlays.remove({ type: 'minyi-problem' });
  registry.getAll().forEach((element) => MARKERS.forEach((m) => canvas.removeMarker(element, m)));
  const mark = (list, marker) => list.forEach((p, index) => {
    const element = p.element_id && registry.get(p.element_id);
    if (!element || element.type === 'label') {
      return;
    }
    canvas.addMarker(element, marker);
    if (element.waypoints) {
      return;
    }
    const badge = document.createElement('span');
    badge.className = `minyi-badge ${marker}-badge`;
    badge.textContent = marker === 'minyi-problem' ? '!' : '?';
    badge.title = p.message;
    overlays.add(element, 'minyi-problem', { position: { top: -10, right: 10 }, html: badge });
  });
  mark(warnings, 'minyi-warning');
  mark(problems, 'minyi-problem');
}

export function showProblems(container, problems, warnings, focus, title) {
  container.innerHTML = '';
  const heading = document.createElement('h2');
  heading.textContent = title || (problems.length ? `问题(${problems.length})` : '没有阻止部署的问题');
  container.appendChild(heading);
  const list = document.createElement('ul');
  const add = (p, kind) => {
    const item = document.createElement('li');
    item.className = `problem problem-${kind}`;
    item.dataset.elementId = p.element_id || '';
    const where = p.element_name || p.element_id || '整个流程';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link-button';
    button.textContent = where;
    button.addEventListener('click', () => focus(p.element_id));
    item.append(kind === 'error' ? '错误:' : '提醒:', button, `:${p.message}`);
    list.appendChild(item);
  };
  problems.forEach((p) => add(p, 'error'));
  warnings.forEach((p) => add(p, 'warning'));
  container.appendChild(list);
}
