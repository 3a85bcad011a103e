/**
 * The bpmnlint configuration the modeler lints with: a few bpmnlint rules (messages in
 * Chinese) and the app's own rules, resolved statically so the bundler can pack them.
 */
import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';
import startEventRequired from 'bpmnlint/rules/start-event-required';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import noDisconnected from 'bpmnlint/rules/no-disconnected';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import { gatewayBranchCondition, noListeners, noUnsupported, userTaskRole } from './rules.js';

const CHINESE = {
  'Process is missing start event': '流程缺少开始事件',
  'Process is missing end event': '流程缺少结束事件',
  'Element is not connected': '元素没有连线',
  'Flow splits implicitly': '隐式分叉:一个步骤有多条无条件的出口,请改用网关',
  'SequenceFlow is a duplicate': '重复的连线'
};

/** A bpmnlint rule whose English messages are shown in Chinese. */
function inChinese(factory) {
  return function(...args) {
    const rule = factory(...args);
    const wrap = (check) => (node, reporter) => check(node, {
      report: (id, message, path) => reporter.report(id, CHINESE[message] || message, path)
    });
    if (typeof rule.check === 'function') {
      return { ...rule, check: wrap(rule.check) };
    }
    return {
      ...rule,
      check: {
        enter: rule.check.enter && wrap(rule.check.enter),
        leave: rule.check.leave && wrap(rule.check.leave)
      }
    };
  };
}

const cache = {
  'rule:bpmnlint/start-event-required': inChinese(startEventRequired),
  'rule:bpmnlint/end-event-required': inChinese(endEventRequired),
  'rule:bpmnlint/no-disconnected': inChinese(noDisconnected),
  'rule:bpmnlint/no-implicit-split': inChinese(noImplicitSplit),
  'rule:bpmnlint/no-duplicate-sequence-flows': inChinese(noDuplicateSequenceFlows),
  'rule:bpmnlint-plugin-minyi/no-unsupported': noUnsupported,
  'rule:bpmnlint-plugin-minyi/gateway-branch-condition': gatewayBranchCondition,
  'rule:bpmnlint-plugin-minyi/user-task-role': userTaskRole,
  'rule:bpmnlint-plugin-minyi/no-listeners': noListeners
};

export default {
  resolver: new StaticResolver(cache),
  config: {
    rules: {
      'bpmnlint/start-event-required': 'error',
      'bpmnlint/end-event-required': 'error',
      'bpmnlint/no-disconnected': 'warn',
      'bpmnlint/no-implicit-split': 'warn',
      'bpmnlint/no-duplicate-sequence-flows': 'warn',
      'minyi/no-unsupported': 'error',
      'minyi/gateway-branch-condition': 'error',
      'minyi/user-task-role': 'error',
      'minyi/no-listeners': 'error'
    }
  }
};
