// Reads each diagram named on the command line with bpmn-moddle + camunda-bpmn-moddle (the model
// layer of the designer's modeler, versions from package-lock.json) and writes it back, as a
// designer's "save" does. Prints one JSON array: [{ file, warnings: [message …], xml }].
// Run by tests/test_modeler_roundtrip.py; `node tests/tools/roundtrip.mjs processes/*.bpmn`.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BpmnModdle } from 'bpmn-moddle';

const require = createRequire(import.meta.url);
const moddle = new BpmnModdle({ camunda: require('camunda-bpmn-moddle/resources/camunda.json') });

const results = [];
for (const file of process.argv.slice(2)) {
  const { rootElement, warnings } = await moddle.fromXML(await readFile(file, 'utf8'), 'bpmn:Definitions');
  const { xml } = await moddle.toXML(rootElement, { format: true });
  results.push({ file, warnings: warnings.map((w) => w.message), xml });
}
process.stdout.write(JSON.stringify(results));
