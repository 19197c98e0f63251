// Preloaded into a CLI run (`node --require test/support/kill-at.cjs bin/syncwright.js ...`):
// with SYNCWRIGHT_TEST_KILL_AT=N, the process is killed (SIGKILL, as a CI timeout or the OOM
// killer would) just before its Nth change of the file system on the main thread: a rename, a
// new link or a removal. Counting is the same in every run, so N = 1, 2, ... kills it at each
// such step in turn.
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');
const { isMainThread } = require('node:worker_threads');

const at = Number(process.env.SYNCWRIGHT_TEST_KILL_AT);
if (isMainThread && at > 0) {
  let changes = 0;
  const counted = (object, name) => {
    const original = object[name];
    object[name] = function (...args) {
      if (++changes === at) process.kill(process.pid, 'SIGKILL');
      return original.apply(this, args);
    };
  };
  for (const name of ['renameSync', 'symlinkSync', 'rmSync', 'unlinkSync', 'rmdirSync']) counted(fs, name);
  for (const name of ['rename', 'symlink', 'rm', 'unlink', 'rmdir']) counted(fs.promises, name);
  // ES modules importing from node:fs see the counted functions too.
  syncBuiltinESMExports();
}
