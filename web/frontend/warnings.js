/**
 * What bpmn-js says while opening a file (import warnings, in English), in the designer's words:
 * each warning with its own meaning and the element it is about, e.g.
 * "unresolved reference <items>" → 引用 “items” 无法解析,保存时会丢失.
 */

const MEANINGS = [
  [ /^unresolved reference <(.*)>$/s,
    (id, w) => `引用 “${id}”${w.property ? `(${local(w.property)})` : ''}无法解析:文件中没有这个 id 的元素,保存时会丢失` ],
  [ /^unknown attribute <(.*)>$/s,
    (name) => `属性 “${name}” 不在 BPMN / Camunda 的定义中,建模器不认识它(保存时原样保留)` ],
  [ /^unparsable content (?:(<[^>]*>) )?detected\s+line: (\d+)/s,
    // the parser counts lines from 0
    (tag, line) => `第 ${Number(line) + 1} 行的内容${tag ? ` ${tag} ` : ''}无法识别,保存时会丢失` ],
  [ /^duplicate ID <(.*)>$/s,
    (id) => `id “${id}” 重复,后出现的元素无法显示` ],
  [ /^multiple DI elements defined for (.*)$/s,
    (element) => `元素 ${element} 有多个图形,只显示第一个,其余的保存时会丢失` ],
  [ /^no bpmnElement referenced in (.*)$/s,
    (shape) => `图形 ${shape} 没有对应的流程元素,已跳过,保存时会丢失` ],
  [ /^correcting missing bpmnElement on (.*) to (.*)$/s,
    (plane, root) => `画布 ${plane} 没有指明画的是哪个流程,已按 ${root} 显示` ],
  [ /^unrecognized flowElement (.*) in context (.*)$/s,
    (element, context) => `不认识的流程元素 ${element}(在 ${context} 中),无法显示` ],
  [ /^element (.*) referenced by (.*) not yet drawn$/s,
    (element, by) => `${by} 引用的元素 ${element} 还没有画出,连线或图形无法显示` ],
  [ /^unknown di (.*) for element (.*)$/s,
    (di, element) => `元素 ${element} 的图形 ${di} 类型不对,无法显示` ],
  [ /^missing (.*)#attachedToRef$/s,
    (element) => `边界事件 ${element} 没有依附的步骤(attachedToRef),无法显示` ],
  [ /^(.*)#(source|target) Ref not specified$/s,
    (element, side) => `连线 ${element} 缺少${side === 'source' ? '起点' : '终点'}(${side}Ref),无法显示` ],
  [ /^no process or collaboration to display$/s,
    () => '文件中没有可显示的流程或协作图' ]
];

/** bpmn-js names an element as `<bpmn:SequenceFlow id="Flow_1" />`; a designer knows it by its id. */
function readable(text) {
  return String(text).replace(/<([\w:]+)(?: id="([^"]*))?" \/>/g, (all, type, id) => (id ? `“${id}”` : type));
}

function local(name) {
  return String(name).replace(/^.*:/, '');
}

/** The nearest element with an id: the warning's own element, or the one it sits in. */
function owner(element) {
  let current = element;
  while (current && !current.id) {
    current = current.$parent;
  }
  return current;
}

/**
 * One import warning as the workspace lists it: { element_id, element_name, message }.
 * A warning this list does not know keeps its own text, so nothing is hidden behind a general sentence.
 */
export function describeWarning(warning) {
  const text = String(warning.message || '');
  const found = MEANINGS.find(([ pattern ]) => pattern.test(text));
  const message = found ? found[1](...text.match(found[0]).slice(1).map(readable), warning)
    : `打开文件时的提示:${readable(text)}`;
  const element = owner(warning.element || (warning.context && warning.context.element));
  return { element_id: element ? element.id : '', element_name: (element && element.name) || '', message };
}
