/**
 * The designer workspace's modeler: bpmn-js with the Camunda 7 properties panel (forms, roles,
 * deadlines, conditions, timers, procedure properties), linting with the app's own rules,
 * Chinese UI, and the workspace's validate / deploy / try-it buttons.
 */
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import lintModule from 'bpmn-js-bpmnlint';
import { layoutProcess } from 'bpmn-auto-layout';

import lintConfig from './lint/config.js';
import translateModule from './translate.js';
import minyiPanelModule from './deadline.js';
import { markProblems, showProblems } from './problems.js';
import { describeWarning } from './warnings.js';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken(), 'Accept': 'application/json' },
    body: JSON.stringify(body)
  });
  let data = {};
  try {
    data = await response.json();
  } catch (err) {
    data = { message: `服务器返回了意外的内容(${response.status})` };
  }
  return { status: response.status, data };
}

/**
 * bpmn-js reports each shape it cannot draw both as an import warning and on the console; the
 * workspace shows the warnings to the designer, so the console copy is held back during import.
 */
async function quietly(importing) {
  const original = console.error;
  console.error = (...args) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith('failed to import'))) {
      original(...args);
    }
  };
  try {
    return await importing();
  } finally {
    console.error = original;
  }
}

function say(root, text, kind) {
  const status = root.querySelector('#designer-status');
  status.textContent = text;
  status.className = `designer-status status-${kind}`;
}

async function start(root) {
  const xml = JSON.parse(document.getElementById('diagram-xml').textContent);
  const modeler = new BpmnModeler({
    container: root.querySelector('#canvas'),
    propertiesPanel: { parent: root.querySelector('#properties') },
    linting: { bpmnlint: lintConfig, active: true },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
      lintModule,
      translateModule,
      minyiPanelModule
    ],
    moddleExtensions: { camunda: camundaModdle }
  });
  window.minyiModeler = modeler;
  window.minyiOpen = (text) => quietly(() => modeler.importXML(text));
  const filename = root.dataset.filename || 'diagram.bpmn';

  try {
    // A diagram written without drawing information (BPMNDI) is laid out automatically.
    const drawn = /BPMNDiagram/.test(xml) ? xml : await layoutProcess(xml);
    const { warnings } = await quietly(() => modeler.importXML(drawn));
    modeler.get('canvas').zoom('fit-viewport');
    root.dataset.ready = 'true';
    if (warnings.length) {
      report({ warnings: warnings.map(describeWarning) }, `打开文件时的提示(${warnings.length})`);
    }
    say(root, warnings.length ? `已打开,有 ${warnings.length} 处提示(见下方),请点“校验”查看流程本身的问题` : '已打开',
      warnings.length ? 'error' : 'info');
  } catch (err) {
    root.dataset.ready = 'error';
    say(root, `无法打开流程图:${err.message}`, 'error');
    return;
  }

  async function current() {
    const { xml: text } = await modeler.saveXML({ format: true });
    return text;
  }

  function report(data, title) {
    const problems = data.problems || [];
    const warnings = data.warnings || [];
    markProblems(modeler, problems, warnings);
    showProblems(root.querySelector('#problems'), problems, warnings, (id) => {
      const element = modeler.get('elementRegistry').get(id);
      if (element) {
        modeler.get('selection').select(element);
        modeler.get('canvas').scrollToElement(element);
      }
    }, title);
  }

  root.querySelector('#validate').addEventListener('click', async () => {
    say(root, '正在校验…', 'info');
    const { status, data } = await postJson(root.dataset.validateUrl, { xml: await current(), filename });
    if (status !== 200) {
      report({ problems: data.problems || [] });
      say(root, data.message || '校验失败', 'error');
      return;
    }
    report(data);
    say(root, data.deployable ? '校验通过:可以部署' : `有 ${data.problems.length} 处问题,不能部署`,
      data.deployable ? 'ok' : 'error');
  });

  root.querySelector('#deploy-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const note = root.querySelector('#note').value;
    say(root, '正在部署…', 'info');
    const { status, data } = await postJson(root.dataset.deployUrl, { xml: await current(), filename, note });
    if (status === 201 || status === 200) {
      report({ problems: [], warnings: data.warnings || [] });
      say(root, data.message, 'ok');
      return;
    }
    report({ problems: data.problems || [] });
    say(root, data.message || '部署失败', 'error');
  });

  root.querySelector('#trial-form').addEventListener('submit', async (event) => {
    event.target.querySelector('input[name="xml"]').value = await current();
  });

  root.querySelector('#download').addEventListener('click', async () => {
    const blob = new Blob([ await current() ], { type: 'application/xml' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    link.click();
    URL.revokeObjectURL(link.href);
  });
}

const root = document.getElementById('designer');
if (root) {
  start(root);
}
