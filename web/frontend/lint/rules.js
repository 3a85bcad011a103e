/**
 * The app's own lint rules: the same things `minyi validate` refuses, shown while drawing.
 * Messages are in Chinese, for designers who are not programmers.
 */
import { is, isAny } from 'bpmnlint-utils';

const REFUSED = {
  'bpmn:ScriptTask': '脚本任务不允许:流程图中不能运行代码,请改用用户任务和条件',
  'bpmn:ServiceTask': '服务任务暂不支持:本系统不调用外部服务',
  'bpmn:BusinessRuleTask': '业务规则任务(DMN)暂不支持',
  'bpmn:SendTask': '发送任务暂不支持',
  'bpmn:ReceiveTask': '接收任务暂不支持',
  'bpmn:ComplexGateway': '复杂网关暂不支持',
  'bpmn:Transaction': '事务子流程暂不支持',
  'bpmn:AdHocSubProcess': '自由子流程暂不支持',
  'bpmn:DataStoreReference': '数据存储暂不支持:事项数据都保存在表单字段中'
};

/** Elements the engine refuses (script, service, DMN … tasks). */
export function noUnsupported() {
  return {
    check(node, reporter) {
      for (const type of Object.keys(REFUSED)) {
        if (is(node, type)) {
          reporter.report(node.id, REFUSED[type]);
          return;
        }
      }
    }
  };
}

/** Every branch leaving an exclusive or inclusive gateway has a condition or is the default. */
export function gatewayBranchCondition() {
  return {
    check(node, reporter) {
      if (!isAny(node, [ 'bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway' ])) {
        return;
      }
      const outgoing = node.outgoing || [];
      if (outgoing.length < 2) {
        return;
      }
      for (const flow of outgoing) {
        if (flow !== node.default && !flow.conditionExpression) {
          reporter.report(flow.id, `网关“${node.name || node.id}”的分支没有条件,也不是默认分支`);
        }
      }
    }
  };
}

/** A step people do needs a role: a lane, or candidateGroups. A plain task (no type) is one too. */
const STEP_KINDS = { 'bpmn:UserTask': '用户任务', 'bpmn:ManualTask': '手工任务', 'bpmn:Task': '任务' };

export function userTaskRole() {
  return {
    check(node, reporter) {
      const kind = STEP_KINDS[node.$type];
      if (!kind) {
        return;
      }
      const groups = (node.get && node.get('camunda:candidateGroups')) || '';
      const inLane = (node.lanes || []).length > 0;
      if (!groups.trim() && !inLane) {
        reporter.report(node.id, `${kind}没有负责角色:请把它放进一个泳道,或填写“候选组”(candidateGroups)`);
      }
    }
  };
}

/** Listeners and scripts in extension elements would run code. */
export function noListeners() {
  return {
    check(node, reporter) {
      const values = (node.extensionElements && node.extensionElements.values) || [];
      for (const value of values) {
        if (isAny(value, [ 'camunda:ExecutionListener', 'camunda:TaskListener' ])) {
          reporter.report(node.id, '监听器不允许:流程图中不能运行代码');
        }
      }
    }
  };
}
