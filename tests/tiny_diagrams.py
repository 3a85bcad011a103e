"""Tiny diagrams built in code for engine-limit tests: one lane, a start form with a number `n`,
the element under test `T` between the start and one user task `U`."""
from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ATTACK = "__import__('os').system('id')"


def one_lane_process(body: str, definitions: str = "") -> bytes:
    """A one-lane process around `body`, which runs from S to E."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  {definitions}
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="n" label="数量" type="long"/></camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:userTask id="U" name="办理" camunda:candidateGroups="受理员"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>
    <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="U"/>
    <bpmn:sequenceFlow id="F3" sourceRef="U" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def looped_subprocess(characteristics: str) -> str:
    return f"""<bpmn:subProcess id="T" name="循环"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      {characteristics}
      <bpmn:startEvent id="SS"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="SE"><bpmn:incoming>G1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="G1" sourceRef="SS" targetRef="SE"/></bpmn:subProcess>"""


def message_throw(path: str) -> tuple[str, str]:
    definitions = f"""<bpmn:message id="M" name="m"/>
  <bpmn:correlationProperty id="cp" name="cp"><bpmn:correlationPropertyRetrievalExpression messageRef="M">
    <bpmn:formalExpression>{path}</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"""
    body = """<bpmn:intermediateThrowEvent id="T" name="通知">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="MD" messageRef="M"/></bpmn:intermediateThrowEvent>"""
    return body, definitions


def human_loop() -> bytes:
    """A step `L` done again and again: J (join) → L → X (again?) → J, or on to the end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="J"><bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F4</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="L" name="登记" camunda:candidateGroups="受理员"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="again" label="再来一次" type="boolean" defaultValue="false"/></camunda:formData>
      </bpmn:extensionElements><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="X" default="F5"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:outgoing>F5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="J"/>
    <bpmn:sequenceFlow id="F2" sourceRef="J" targetRef="L"/>
    <bpmn:sequenceFlow id="F3" sourceRef="L" targetRef="X"/>
    <bpmn:sequenceFlow id="F4" sourceRef="X" targetRef="J"><bpmn:conditionExpression>again</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F5" sourceRef="X" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def timer_loop() -> bytes:
    """No step for people: J (join) → T (a timer, an hour) → X (n > 100?) → J again, or to the end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="n" label="数量" type="long"/></camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="J"><bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F4</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:intermediateCatchEvent id="T" name="每小时"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:exclusiveGateway id="X" default="F4"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:outgoing>F5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="J"/>
    <bpmn:sequenceFlow id="F2" sourceRef="J" targetRef="T"/>
    <bpmn:sequenceFlow id="F3" sourceRef="T" targetRef="X"/>
    <bpmn:sequenceFlow id="F4" sourceRef="X" targetRef="J"/>
    <bpmn:sequenceFlow id="F5" sourceRef="X" targetRef="E">
      <bpmn:conditionExpression>n &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>""".encode()
