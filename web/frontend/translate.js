/**
 * The modeler in Chinese: the community translation from bpmn-js-i18n, plus the labels of
 * the properties panel groups and entries a designer of this app works with.
 */
import community from 'bpmn-js-i18n/translations/zn';

const PANEL = {
  'General': '常规',
  'Name': '名称',
  'ID': '编号(ID)',
  'Documentation': '说明',
  'Element documentation': '元素说明',
  'Process documentation': '流程说明',
  'Version tag': '版本标签',
  'Executable': '可执行',
  'Form': '表单',
  'Form fields': '表单字段',
  'Form field': '表单字段',
  'Type': '类型',
  'Label': '标签',
  'Default value': '默认值',
  'Values': '选项',
  'Constraints': '校验规则',
  'Config': '配置',
  'Properties': '属性',
  'Extension properties': '扩展属性',
  'Value': '值',
  'User assignment': '办理人分配',
  'Assignee': '办理人',
  'Candidate groups': '候选组(角色)',
  'Candidate users': '候选用户',
  'Due date': '办理期限',
  'Follow up date': '跟进日期',
  'Priority': '优先级',
  'Condition': '条件',
  'Condition type': '条件类型',
  'Expression': '表达式',
  'Script': '脚本',
  'Timer': '定时器',
  'Type ': '类型',
  'Date': '日期',
  'Duration': '时长',
  'Cycle': '循环',
  '<none>': '<无>',
  'Candidate starter': '可发起人',
  'Candidate starter groups': '可发起的角色',
  'Candidate starter users': '可发起的用户',
  'Start initiator': '发起人',
  'Asynchronous continuations': '异步继续',
  'Execution listeners': '执行监听器',
  'Task listeners': '任务监听器',
  'Inputs': '输入',
  'Outputs': '输出',
  'Input/Output': '输入/输出',
  'Job execution': '作业执行',
  'Forms': '表单',
  'Form key': '表单键',
  'Form type': '表单类型',
  'Generated task form': '生成的任务表单',
  'Embedded or External Task Forms': '嵌入式或外部表单',
  'Camunda Forms': 'Camunda 表单',
  'Implementation': '实现',
  'Multi-instance': '多实例',
  'Loop cardinality': '循环次数',
  'Completion condition': '完成条件',
  'Add': '添加',
  'History cleanup': '历史清理',
  'Tasklist': '任务列表',
  'External task': '外部任务',
  'Process variables': '流程变量',
  'Refers to the process variable name': '即事项数据中的字段名',
  'Create new list item': '新增一项',
  'Delete item': '删除此项',
  'Toggle section': '展开/收起',
  'Delete': '删除',
  'Create': '新建',
  'Remove': '移除',
  'string': '文本',
  'long': '整数',
  'boolean': '是/否',
  'date': '日期',
  'enum': '下拉选项',
  'custom type': '自定义类型',
  'Custom type': '自定义类型',
  'Name (Validation)': '规则名',
  'Select an element to edit its properties.': '选择一个元素以编辑其属性。',
  'Multiple elements are selected. Select a single one to edit its properties.': '选中了多个元素,请只选一个以编辑属性。',
  'Errors': '错误',
  'Warnings': '警告',
  'Toggle linting': '开关检查',
  'No Issues': '没有问题',
  'Issues': '问题'
};

const TRANSLATIONS = { ...community, ...PANEL };

/** diagram-js `translate` service: Chinese text with {placeholders} filled in. */
function translate(template, replacements) {
  replacements = replacements || {};
  const text = TRANSLATIONS[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export default { translate: [ 'value', translate ] };
