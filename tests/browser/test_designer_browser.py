"""The designer workspace in headless Chromium: edit a form in the modeler, validate, deploy; running cases
keep their form; invalid edits are refused with the message shown; 四单 uploaded and run; 试运行.

Screenshots for docs/designer-guide.md are taken by these tests: into test-output/screenshots/ on every
run, and into docs/images/ only with MINYI_UPDATE_DOC_IMAGES=1 (so a test run leaves the tree clean).
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from engine.people import users
from engine.store.db import Database
from engine.work import casepages, cases
from tests.browser.axe import assert_accessible
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import DATA, PASSWORD, PROCESSES, ROOT, deploy_file

pytestmark = pytest.mark.browser
DOC_IMAGES = ROOT / "docs" / "images" if os.environ.get("MINYI_UPDATE_DOC_IMAGES") == "1" \
    else ROOT / "test-output" / "screenshots"
SIDAN_ROLES = {"xinxiyuan": "民情信息员", "zhibu": "社区党支部", "baobao": "包保单位", "wangge": "党员网格员",
               "zhiyuan": "志愿服务队"}


@pytest.fixture
def workspace(live_server, tmp_path):
    """The live server's database with a designer, the 四单 roles and the approval diagram deployed."""
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    users.create_user(database, "designer", PASSWORD, "周设计", ["流程设计人员"])
    for name, role in SIDAN_ROLES.items():
        users.create_user(database, name, PASSWORD, name, [role])
    deploy_file(database, DATA / "approval.bpmn")
    yield live_server, database
    database.dispose()


def doc_shot(page, name: str) -> None:
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.screenshot(path=str(DOC_IMAGES / f"{name}.png"))


def open_modeler(page, base: str, procedure: str) -> None:
    page.goto(f"{base}/designer/")
    page.locator("section.procedure", has_text=procedure).get_by_role("link", name="编辑最新版本").click()
    page.wait_for_selector('#designer[data-ready="true"]')


def status(page) -> str:
    return page.locator("#designer-status").inner_text()


def task_labels(page, base: str, task_id: int) -> list[str]:
    page.goto(f"{base}/tasks/{task_id}")
    return page.locator("form .field label").all_inner_texts()


FORM_EDITED = """() => {
    const step = window.minyiModeler.get('elementRegistry').get('Review').businessObject;
    const form = ((step.extensionElements && step.extensionElements.values) || [])
        .find(v => v.$type === 'camunda:FormData');
    const label = id => { const f = ((form && form.fields) || []).find(f => f.id === id); return f && f.label; };
    return label('decision') === '审核结论' && label('phone') === '联系电话';
}"""


def test_designer_edits_a_form_and_running_cases_keep_the_old_one(workspace, new_page):
    base, database = workspace
    staff = {a.username: a for a in users.list_users(database)}
    old = cases.start_case(database, staff["clerk"], "approval", {"title": "旧事项"}).case_number
    page = new_page()
    sign_in(page, base, "designer")
    page.get_by_role("link", name="流程设计").click()
    doc_shot(page, "designer-list")
    open_modeler(page, base, "简单审批")

    # in the properties panel: rename the label of 结论, add a field 联系电话
    page.locator('[data-element-id="Review"]').first.click()
    # the panel speaks Chinese: the element type and every group heading
    assert page.locator(".bio-properties-panel-header-type").inner_text() == "人工任务"
    headings = page.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert headings and all(re.search(r"[\u4e00-\u9fff]", h) for h in headings), headings
    fields = page.locator(".bio-properties-panel-group", has=page.locator(
        ".bio-properties-panel-group-header", has_text="表单字段"))
    fields.locator(".bio-properties-panel-group-header").click()
    fields.locator(".bio-properties-panel-collapsible-entry-header", has_text="decision").click()
    fields.get_by_label("标签", exact=True).first.fill("审核结论")
    fields.locator(".bio-properties-panel-group-header-button.bio-properties-panel-add-entry").click()
    new_id = fields.get_by_label("编号(ID)", exact=True).last
    if not new_id.is_visible():
        fields.locator(".bio-properties-panel-collapsible-entry-header").last.click()
    new_id.fill("phone")
    fields.get_by_label("标签", exact=True).last.fill("联系电话")
    # the panel writes typed text into the diagram after a short pause: wait until the model has both edits
    page.wait_for_function(FORM_EDITED)
    doc_shot(page, "designer-form-fields")

    page.get_by_role("button", name="校验").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验通过')")
    page.get_by_label("变更说明").fill("审核结论改名,加联系电话")
    page.get_by_role("button", name="部署新版本").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('第 2 版')")

    new = cases.start_case(database, staff["clerk"], "approval", {"title": "新事项"}).case_number
    leader = new_page()
    sign_in(leader, base, "leader")
    task_of = {n: casepages.get_case(database, staff["leader"], n).open_steps[0].task_id for n in (old, new)}
    assert task_labels(leader, base, task_of[new]) == ["审核结论*", "理由", "联系电话"]
    assert task_labels(leader, base, task_of[old]) == ["结论*", "理由"]
    page.goto(f"{base}/designer/")
    assert "审核结论改名,加联系电话" in page.locator("section.procedure", has_text="简单审批").inner_text()


INVALID_EDITS = {
    "gateway-branch": ("""() => { const m = window.minyiModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get('F_ok'),
                                           { conditionExpression: undefined }); }""",
                       "F_ok", "分支没有条件"),
    "script-task": ("""() => { const m = window.minyiModeler;
        m.get('bpmnReplace').replaceElement(m.get('elementRegistry').get('Review'), { type: 'bpmn:ScriptTask' }); }""",
                    "Review", "脚本任务"),
    "import-in-condition": ("""() => { const m = window.minyiModeler; const flow = m.get('elementRegistry').get('F_ok');
        m.get('modeling').updateModdleProperties(flow, flow.businessObject.conditionExpression,
          { body: "__import__('os').system('rm -rf /')" }); }""", "F_ok", "__import__"),
}


@pytest.mark.parametrize("edit", INVALID_EDITS)
def test_an_invalid_edit_is_refused_with_the_message_shown(workspace, new_page, edit):
    base, _ = workspace
    script, element_id, words = INVALID_EDITS[edit]
    page = new_page()
    sign_in(page, base, "designer")
    open_modeler(page, base, "简单审批")
    page.evaluate(script)
    page.get_by_label("变更说明").fill("不该部署")
    page.get_by_role("button", name="部署新版本").click()
    problem = page.locator(f'#problems li.problem-error[data-element-id="{element_id}"]')
    problem.first.wait_for()
    assert words in problem.first.inner_text()
    assert "问题" in status(page)
    assert page.locator(f'.djs-element.minyi-problem[data-element-id="{element_id}"]').count() == 1
    if edit == "gateway-branch":
        doc_shot(page, "designer-problem")
    page.goto(f"{base}/designer/")
    assert "第 2 版" not in page.locator("section.procedure", has_text="简单审批").inner_text()


def test_四单_is_uploaded_deployed_and_run_without_code(workspace, new_page):
    base, _ = workspace
    page = new_page()
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/")
    page.get_by_label(re.compile("上传其他工具绘制")).set_input_files(str(PROCESSES / "sidan.bpmn"))
    page.get_by_role("button", name="上传并打开").click()
    page.wait_for_selector('#designer[data-ready="true"]')
    page.get_by_role("button", name="校验").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验通过')")
    doc_shot(page, "designer-sidan")
    page.get_by_label("变更说明").fill("四单上线")
    page.get_by_role("button", name="部署新版本").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('第 1 版')")

    resident_desk = new_page()
    sign_in(resident_desk, base, "xinxiyuan")
    resident_desk.goto(f"{base}/cases/new")
    resident_desk.get_by_role("link", name="四单").click()
    resident_desk.get_by_label("诉求标题").fill("小区东门停车难")
    resident_desk.get_by_label("点单渠道").select_option("点单征集日")
    resident_desk.get_by_label("诉求内容").fill("东门晚间车辆乱停,消防通道被占。")
    resident_desk.get_by_label("点单居民").fill("刘阿姨")
    resident_desk.get_by_role("button", name=re.compile("登记|提交|受理")).click()
    number = re.search(r"SD-\d{8}-\d{6}", resident_desk.locator(".flash").first.inner_text()).group(0)

    branch = new_page()
    sign_in(branch, base, "zhibu")
    branch.goto(f"{base}/tasks/queue")
    branch.get_by_role("link", name=f"办理 {number} 支部派单").click()
    branch.get_by_label("三事分流").select_option("大家事")
    branch.get_by_label("服务菜单").select_option("文明共建")
    branch.get_by_label("接单单位或服务岗位").fill("在职党员服务岗")
    branch.get_by_role("button", name="提交办理").click()
    assert "共议大家事" in branch.locator(".flash").first.inner_text()

    grid = new_page()
    sign_in(grid, base, "wangge")
    grid.goto(f"{base}/tasks/queue")
    assert grid.get_by_role("link", name=f"办理 {number} 共议大家事(党员网格员接单)").count() == 1


def test_try_it_walks_a_draft_as_any_role(workspace, new_page):
    base, _ = workspace
    page = new_page()
    sign_in(page, base, "designer")
    open_modeler(page, base, "简单审批")
    page.get_by_role("button", name="试运行").click()
    page.get_by_label("标题").fill("试一试")
    page.get_by_role("button", name="开始试运行").click()
    page.get_by_text("代“社区负责人”办理").wait_for()
    doc_shot(page, "designer-trial")
    page.get_by_label("结论").select_option("同意")
    page.get_by_role("button", name="提交“审核”").click()
    expect(page.locator("main")).to_contain_text("事项已办结")
    leader = new_page()
    sign_in(leader, base, "leader")
    leader.goto(f"{base}/tasks/queue")
    assert "试运行-" not in leader.locator("main").inner_text()


def test_each_import_warning_is_shown_with_its_own_meaning(workspace, new_page, tmp_path):
    """A file the modeler cannot read completely says what will be lost and where, not a general sentence."""
    base, _ = workspace
    source = (PROCESSES / "yizheng_jianyi.bpmn").read_text(encoding="utf-8")
    start = source.index('<bpmn:property id="items"')
    undeclared = tmp_path / "yizheng_jianyi.bpmn"
    undeclared.write_text(source[:start] + source[source.index("</bpmn:property>", start) + 16:], encoding="utf-8")
    page = new_page()
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/")
    page.get_by_label(re.compile("上传其他工具绘制")).set_input_files(str(undeclared))
    page.get_by_role("button", name="上传并打开").click()
    page.wait_for_selector('#designer[data-ready="true"]')
    assert "已打开,有 1 处提示" in status(page)
    assert page.locator("#problems h2").inner_text() == "打开文件时的提示(1)"
    warning = page.locator('#problems li.problem-warning[data-element-id="SubProcess_items"]')
    assert warning.inner_text() == ("提醒:逐项决议:引用 “items”(loopDataInputRef)无法解析:文件中没有这个 id 的元素,"
                                    "保存时会丢失")
    assert "图形无法显示" not in page.locator("#designer").inner_text()


def test_简易程序_renamed_in_the_modeler_still_validates_and_deploys(workspace, new_page):
    """The multi-instance over `items` survives bpmn-js: a rename and a save leave 简易程序 deployable."""
    base, database = workspace
    deploy_file(database, PROCESSES / "yizheng_jianyi.bpmn")
    page = new_page()
    sign_in(page, base, "designer")
    open_modeler(page, base, "一征三议两公开(简易程序)")
    assert status(page) == "已打开"
    page.evaluate("""() => { const m = window.minyiModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get('UserTask_review'),
                                           { name: '党员议事会审议' }); }""")
    saved = page.evaluate("async () => (await window.minyiModeler.saveXML()).xml")
    assert "<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>" in saved
    page.get_by_role("button", name="校验").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验通过')")
    page.get_by_label("变更说明").fill("审议步骤改名")
    page.get_by_role("button", name="部署新版本").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('第 2 版')")


def test_warnings_of_several_kinds_each_say_what_happens(workspace, new_page, tmp_path):
    """An unknown attribute is kept, an unknown element and a shape of nothing are dropped: each is said so."""
    base, _ = workspace
    xml = (PROCESSES / "sidan.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('<bpmn:userTask id="UserTask_paidan" name="支部派单"',
                      '<bpmn:userTask id="UserTask_paidan" name="支部派单" bpmn:priority="高"', 1)
    xml = xml.replace('<bpmn:endEvent id="EndEvent_shaidan"',
                      '<bpmn:bogus id="Bogus_1" /><bpmn:endEvent id="EndEvent_shaidan"', 1)
    xml = xml.replace('<bpmndi:BPMNShape id="Lane_zhibu_di"',
                      '<bpmndi:BPMNShape id="Ghost_di" bpmnElement="Ghost">'
                      '<dc:Bounds x="0" y="0" width="10" height="10" />'
                      '</bpmndi:BPMNShape><bpmndi:BPMNShape id="Lane_zhibu_di"', 1)
    bogus_line = xml[:xml.index("<bpmn:bogus")].count("\n") + 1
    path = tmp_path / "sidan.bpmn"
    path.write_text(xml, encoding="utf-8")
    page = new_page()
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/")
    page.get_by_label(re.compile("上传其他工具绘制")).set_input_files(str(path))
    page.get_by_role("button", name="上传并打开").click()
    page.wait_for_selector('#designer[data-ready="true"]')
    shown = page.locator("#problems li.problem-warning").all_inner_texts()
    assert sorted(shown) == sorted([
        "提醒:支部派单:属性 “bpmn:priority” 不在 BPMN / Camunda 的定义中,建模器不认识它(保存时原样保留)",
        f"提醒:整个流程:第 {bogus_line} 行的内容 <bpmn:bogus> 无法识别,保存时会丢失",
        "提醒:Ghost_di:引用 “Ghost”(bpmnElement)无法解析:文件中没有这个 id 的元素,保存时会丢失",
        "提醒:Ghost_di:图形 “Ghost_di” 没有对应的流程元素,已跳过,保存时会丢失",
    ]), shown


def test_a_genmymodel_export_opens_with_its_drawing(workspace, new_page):
    """GenMyModel writes its drawing references as `bpmn2:…`; uploaded, the modeler draws every shape."""
    base, _ = workspace
    page = new_page()
    sign_in(page, base, "designer")
    page.goto(f"{base}/designer/")
    page.get_by_label(re.compile("上传其他工具绘制")).set_input_files(
        str(DATA / "miwg" / "GenMyModel 0.47" / "A.1.0-export.bpmn"))
    page.get_by_role("button", name="上传并打开").click()
    page.wait_for_selector('#designer[data-ready="true"]')
    drawn = page.evaluate("""() => window.minyiModeler.get('elementRegistry').getAll()
        .filter(e => e.type !== 'label' && e.businessObject && e.businessObject.id !== undefined)
        .map(e => e.id)""")
    assert {"_sSUQUh8nEeW9keBtFZy97Q", "_sSUQVB8nEeW9keBtFZy97Q", "_sSUQVh8nEeW9keBtFZy97Q",
            "_sSUQWB8nEeW9keBtFZy97Q", "_sSUQWh8nEeW9keBtFZy97Q", "_sSUQUx8nEeW9keBtFZy97Q"} <= set(drawn)


DEADLINE = """() => {
    const step = window.minyiModeler.get('elementRegistry').get('Review').businessObject;
    const props = ((step.extensionElements && step.extensionElements.values) || [])
        .find(v => v.$type === 'camunda:Properties');
    const value = name => {
        const p = ((props && props.values) || []).find(p => p.name === name);
        return p && p.value;
    };
    return {dueDate: step.get('camunda:dueDate') || null, dueWorkingDays: value('dueWorkingDays') || null};
}"""

RERENDER = """() => {
    const modeler = window.minyiModeler;
    const review = modeler.get('elementRegistry').get('Review');
    modeler.get('eventBus').fire('elements.changed', {elements: [review]});
}"""


def test_the_panel_sets_a_deadline_in_working_days_without_iso_durations(workspace, new_page):
    """办理时限 in the properties panel: N 天 reads the diagram's P2D; N 个工作日 writes the step
    property the engine reads (and drops the duration); the listener groups validation would refuse
    are not offered; the panel's own buttons speak Chinese."""
    base, _ = workspace
    page = new_page()
    sign_in(page, base, "designer")
    open_modeler(page, base, "简单审批")
    page.locator('[data-element-id="Review"]').first.click()
    expect(page.locator(".bio-properties-panel-group-header-title", has_text="办理时限")).to_be_visible()
    headings = page.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert "办理时限" in headings and not {"任务监听器", "执行监听器", "输入", "输出"} & set(headings)
    titles = page.locator(".bio-properties-panel-group-header-button").evaluate_all(
        "buttons => buttons.map(b => b.title)")
    assert titles and not any(t in ("Toggle section", "Create new list item") for t in titles), titles
    group = page.locator(".bio-properties-panel-group", has=page.locator(
        ".bio-properties-panel-group-header", has_text="办理时限"))
    group.locator(".bio-properties-panel-group-header").click()
    kind = group.get_by_label("办理时限", exact=True)
    assert kind.input_value() == "days" and group.get_by_label("天数").input_value() == "2"
    kind.select_option("workdays")
    page.wait_for_function(f"() => ({DEADLINE})().dueWorkingDays === '2'")
    group.get_by_label("工作日数").fill("5")
    page.wait_for_function(f"() => ({DEADLINE})().dueWorkingDays === '5'")
    assert page.evaluate(DEADLINE) == {"dueDate": None, "dueWorkingDays": "5"}
    group.get_by_label("工作日数").fill("0")
    expect(group).to_contain_text("请填写 1–365 的整数")  # the panel checks the value as it is typed
    assert page.evaluate(DEADLINE)["dueWorkingDays"] == "5"
    page.evaluate(RERENDER)  # an unrelated change re-renders the panel: the message stays
    expect(group.get_by_label("工作日数")).to_have_value("0")
    expect(group).to_contain_text("请填写 1–365 的整数")
    group.get_by_label("工作日数").fill("3")
    page.wait_for_function(f"() => ({DEADLINE})().dueWorkingDays === '3'")
    assert_accessible(page)
    page.get_by_role("button", name="校验").click()
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验通过')")
    doc_shot(page, "designer-deadline")
