/**
 * The properties panel as a designer of this app needs it:
 * - a 办理时限 group on user tasks: N 个工作日 (step property `dueWorkingDays`, counted from the
 *   step's start or from a date field, `dueFrom`), N 天 (`camunda:dueDate` = `PnD`), or a date
 *   field of the forms (`camunda:dueDate` = `${field}`) — what engine/work/deadlines.py reads;
 * - no 任务监听器 / 执行监听器 / 输入 / 输出 groups (validation refuses listeners and mappings anyway);
 * - every group's own buttons ("Create new list item", "Toggle section") in Chinese.
 */
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

// what validation refuses (engine/bpmn/diagram.py): listeners, input/output mappings, connectors
const HIDDEN = new Set([ 'CamundaPlatform__TaskListener', 'CamundaPlatform__ExecutionListener',
  'CamundaPlatform__Input', 'CamundaPlatform__Output', 'CamundaPlatform__ConnectorInput',
  'CamundaPlatform__ConnectorOutput' ]);
const FIELD = /^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$/;
const DAYS = /^P(\d+)D$/;

function camundaProperties(bo) {
  const ext = bo.get('extensionElements');
  return ext && ext.get('values').find((v) => is(v, 'camunda:Properties'));
}

function property(bo, name) {
  const props = camundaProperties(bo);
  const found = props && props.get('values').find((p) => p.name === name);
  return found ? (found.value || '') : '';
}

/** What the diagram says about a step's deadline, in the group's terms. */
export function readDeadline(bo) {
  const workdays = property(bo, 'dueWorkingDays').trim();
  const due = (bo.get('camunda:dueDate') || '').trim();
  if (due) {
    const days = DAYS.exec(due);
    if (days) return { kind: 'days', count: days[1] };
    const field = FIELD.exec(due);
    if (field) return { kind: 'field', field: field[1] };
    return { kind: 'other' };
  }
  if (workdays) return { kind: 'workdays', count: workdays, from: property(bo, 'dueFrom').trim() };
  return { kind: 'none' };
}

/** The date fields of every form in the diagram (start forms and steps), as options. */
function dateFields(elementRegistry) {
  const seen = new Map();
  for (const element of elementRegistry.getAll()) {
    const ext = getBusinessObject(element).get && getBusinessObject(element).get('extensionElements');
    const formData = ext && ext.get('values').find((v) => is(v, 'camunda:FormData'));
    for (const field of (formData && formData.get('fields')) || []) {
      if (field.type === 'date' && field.id && !seen.has(field.id)) {
        seen.set(field.id, `${field.label || field.id}(${field.id})`);
      }
    }
  }
  return [ ...seen ].map(([ value, label ]) => ({ value, label }));
}

/**
 * Write the deadline: `dueDate`, `dueWorkingDays` and `dueFrom` together, in one undoable step.
 * `undefined` removes a value.
 */
function writeDeadline(element, injector, { dueDate, dueWorkingDays, dueFrom }) {
  const bpmnFactory = injector.get('bpmnFactory');
  const bo = getBusinessObject(element);
  const commands = [ {
    cmd: 'element.updateModdleProperties',
    context: { element, moddleElement: bo, properties: { 'camunda:dueDate': dueDate } }
  } ];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let props = ext.get('values').find((v) => is(v, 'camunda:Properties'));
  if (!props) {
    props = bpmnFactory.create('camunda:Properties', { values: [] });
    props.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: ext, properties: { values: [ ...ext.get('values'), props ] } } });
  }
  const kept = props.get('values').filter((p) => p.name !== 'dueWorkingDays' && p.name !== 'dueFrom');
  for (const [ name, value ] of [ [ 'dueWorkingDays', dueWorkingDays ], [ 'dueFrom', dueFrom ] ]) {
    if (value !== undefined && value !== '') {
      const created = bpmnFactory.create('camunda:Property', { name, value: String(value) });
      created.$parent = props;
      kept.push(created);
    }
  }
  commands.push({ cmd: 'element.updateModdleProperties',
    context: { element, moddleElement: props, properties: { values: kept } } });
  injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
}

function Kind({ element, id }) {
  const translate = useService('translate');
  const injector = useService('injector');
  const elementRegistry = useService('elementRegistry');
  const bo = getBusinessObject(element);
  const current = readDeadline(bo);
  const options = [
    { value: 'none', label: '不设办理时限' },
    { value: 'workdays', label: 'N 个工作日' },
    { value: 'days', label: 'N 天(自然日)' },
    { value: 'field', label: '表单中的日期字段(到该日结束)' }
  ];
  if (current.kind === 'other') {
    options.push({ value: 'other', label: '表达式(在“办理人分配 › 办理期限”中编辑)' });
  }
  const setValue = (kind) => {
    const count = current.count || '3';
    if (kind === 'none') writeDeadline(element, injector, {});
    if (kind === 'workdays') writeDeadline(element, injector, { dueWorkingDays: count });
    if (kind === 'days') writeDeadline(element, injector, { dueDate: `P${count}D` });
    if (kind === 'field') {
      const first = dateFields(elementRegistry)[0];
      writeDeadline(element, injector, { dueDate: first ? '${' + first.value + '}' : undefined });
    }
  };
  return jsx(SelectEntry, {
    element, id, label: translate('办理时限'), getValue: () => current.kind, setValue,
    getOptions: () => options,
    description: '工作日跳过周末和法定节假日,计入调休上班日;到期前提醒办理人,按工作日或日期计的期限在最后一个工作日 09:00 提醒'
  });
}

function Count({ element, id }) {
  const injector = useService('injector');
  const bo = getBusinessObject(element);
  const current = readDeadline(bo);
  const setValue = (text) => {
    if (countError(text)) return;
    const value = text.trim();
    if (current.kind === 'workdays') writeDeadline(element, injector, { dueWorkingDays: value, dueFrom: current.from });
    else writeDeadline(element, injector, { dueDate: `P${value}D` });
  };
  return jsx(TextFieldEntry, {
    element, id, label: current.kind === 'workdays' ? '工作日数' : '天数',
    getValue: () => current.count || '', setValue, debounce: immediate, validate: countError
  });
}

// The panel re-validates the stored value whenever `validate` changes identity (a useEffect on
// [value, validate]); a closure made anew on every render would let any re-render erase the message
// about what the designer has just typed. Both are therefore defined once.
function countError(text) {
  const value = (text || '').trim();
  return /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 365 ? null : '请填写 1–365 的整数';
}

function immediate(fn) {
  return fn;
}

function From({ element, id }) {
  const injector = useService('injector');
  const elementRegistry = useService('elementRegistry');
  const current = readDeadline(getBusinessObject(element));
  return jsx(SelectEntry, {
    element, id, label: '起算日期',
    getValue: () => current.from || '',
    setValue: (from) => writeDeadline(element, injector, { dueWorkingDays: current.count, dueFrom: from || undefined }),
    getOptions: () => [ { value: '', label: '该步骤开始办理时' }, ...dateFields(elementRegistry) ]
  });
}

function Field({ element, id }) {
  const injector = useService('injector');
  const elementRegistry = useService('elementRegistry');
  const current = readDeadline(getBusinessObject(element));
  const fields = dateFields(elementRegistry);
  return jsx(SelectEntry, {
    element, id, label: '日期字段',
    getValue: () => current.field || '',
    setValue: (field) => writeDeadline(element, injector, { dueDate: field ? '${' + field + '}' : undefined }),
    getOptions: () => (fields.length ? fields : [ { value: '', label: '表单中还没有日期字段' } ])
  });
}

function deadlineGroup(element, translate) {
  const kind = readDeadline(getBusinessObject(element)).kind;
  const entries = [ { id: 'minyi-due-kind', component: Kind, isEdited: () => kind !== 'none' } ];
  if (kind === 'workdays' || kind === 'days') {
    entries.push({ id: 'minyi-due-count', component: Count, isEdited: isTextFieldEntryEdited });
  }
  if (kind === 'workdays') {
    entries.push({ id: 'minyi-due-from', component: From, isEdited: isSelectEntryEdited });
  }
  if (kind === 'field') {
    entries.push({ id: 'minyi-due-field', component: Field, isEdited: isSelectEntryEdited });
  }
  return { id: 'minyi-deadline', label: '办理时限', entries, translate };
}

class MinyiPropertiesProvider {
  constructor(propertiesPanel, translate) {
    this._translate = translate;
    propertiesPanel.registerProvider(100, this);  // after the Camunda provider: sees its groups
  }

  getGroups(element) {
    return (groups) => {
      const shown = groups.filter((g) => !HIDDEN.has(g.id)).map((g) => ({ translate: this._translate, ...g }));
      if (is(element, 'bpmn:UserTask')) {
        const general = shown.findIndex((g) => g.id === 'general');
        shown.splice(general + 1, 0, deadlineGroup(element, this._translate));
      }
      return shown;
    };
  }
}

MinyiPropertiesProvider.$inject = [ 'propertiesPanel', 'translate' ];

export default {
  __init__: [ 'minyiPropertiesProvider' ],
  minyiPropertiesProvider: [ 'type', MinyiPropertiesProvider ]
};
