/**
 * Chevrotain, loaded from the single-file bundle its package ships. The package's entry point
 * pulls in hundreds of lodash-es modules, which costs a CLI run more start-up time than
 * parsing the bundled examples; the bundle is the same code in one file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Chevrotain = typeof import('chevrotain');

const entry = createRequire(import.meta.url).resolve('chevrotain');
const bundle = pathToFileURL(join(dirname(entry), '..', 'chevrotain.mjs')).href;

export const {
  createToken,
  createTokenInstance,
  Lexer,
  EmbeddedActionsParser,
  isRecognitionException,
  tokenMatcher,
  EOF,
  getLookaheadPaths,
  LLkLookaheadStrategy,
  serializeGrammar,
} = (await import(bundle)) as Chevrotain;
