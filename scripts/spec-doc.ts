/**
 * `npm run spec-doc`: writes docs/spec.md from the zod schemas (src/experiment/spec-doc.ts), with
 * examples from the specs in examples/.
 */
import { join } from "node:path";
import { specDocMarkdown } from "../src/experiment/spec-doc.js";
import { specDocInputs } from "../src/experiment/spec-doc-inputs.js";
import { writeFileAtomic } from "../src/util/atomic-write.js";
import { PROJECT_ROOT } from "../src/util/paths.js";

const { examples, shown } = await specDocInputs();
const file = join(PROJECT_ROOT, "docs", "spec.md");
await writeFileAtomic(file, specDocMarkdown(examples, shown));
process.stderr.write(`wrote ${file}\n`);
