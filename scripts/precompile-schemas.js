#!/usr/bin/env node
// Part of `npm run build`, after tsc: writes the validator of each published schema
// (schemas/*.schema.json) as code beside dist/schema/compile.js, so the CLI does not compile
// them on every run. src/schema/compile.ts uses one only while it matches the schema's text.
import { writeFileSync } from 'node:fs';
import { schemaNames, standaloneValidator, standaloneValidatorPath } from '../dist/schema/compile.js';

for (const name of schemaNames) writeFileSync(standaloneValidatorPath(name), standaloneValidator(name));
