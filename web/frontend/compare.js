/**
 * 版本对比: the newer version drawn with what was added or changed marked, the older one
 * with what was removed, from bpmn-js-differ's semantic diff of the two files.
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { BpmnModdle } from 'bpmn-moddle';
import { diff } from 'bpmn-js-differ';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

async function definitions(xml) {
  const moddle = new BpmnModdle({ camunda: camundaModdle });
  const { rootElement } = await moddle.fromXML(xml);
  return rootElement;
}

async function show(container, xml, marks) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda: camundaModdle } });
  await viewer.importXML(xml);
  viewer.get('canvas').zoom('fit-viewport');
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [ ids, marker ] of marks) {
    Object.keys(ids).forEach((id) => registry.get(id) && canvas.addMarker(id, marker));
  }
  return viewer;
}

async function start(root) {
  const oldXml = JSON.parse(document.getElementById('old-xml').textContent);
  const newXml = JSON.parse(document.getElementById('new-xml').textContent);
  const changes = diff(await definitions(oldXml), await definitions(newXml));
  await show(root.querySelector('#old-canvas'), oldXml, [ [ changes._removed, 'diff-removed' ] ]);
  await show(root.querySelector('#new-canvas'), newXml, [
    [ changes._added, 'diff-added' ], [ changes._changed, 'diff-changed' ], [ changes._layoutChanged, 'diff-layout' ]
  ]);
  root.dataset.ready = 'true';
  root.dataset.added = Object.keys(changes._added).join(' ');
  root.dataset.removed = Object.keys(changes._removed).join(' ');
  root.dataset.changed = Object.keys(changes._changed).join(' ');
}

const root = document.getElementById('compare');
if (root) {
  start(root);
}
