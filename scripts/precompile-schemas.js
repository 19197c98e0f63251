#!/usr/bin/env node
// Part of `npm run build` (scripts/postbuild.js): writes the validators of each group of schemas (each
// published schemas/<name>.schema.json, the catalog's settings schemas) as code beside
// dist/schema/compile.js, so that a CLI run neither loads Ajv nor compiles them.
// src/schema/compile.ts uses a group's code only while it matches the group's schemas.
// Then validates every dialects/*.json and records their hashes, so that a CLI run loads a
// dialect the build validated without validating it again (src/dialect/index.ts).
import { writeFileSync } from 'node:fs';
import { publishedGroup, schemaNames, standaloneValidators, standaloneValidatorsPath } from '../dist/schema/compile.js';
import { settingsSchemas } from '../dist/catalog/index.js';
import { validatedDialects, validatedDialectsFile } from '../dist/dialect/index.js';

for (const name of schemaNames) writeFileSync(standaloneValidatorsPath(name), standaloneValidators(publishedGroup(name), `schemas/${name}.schema.json`));
writeFileSync(standaloneValidatorsPath('settings'), standaloneValidators(settingsSchemas(), 'the settings schemas of src/catalog'));
writeFileSync(validatedDialectsFile, validatedDialects());
