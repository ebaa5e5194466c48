'use strict';
// fail prints an error with its code and the chain of its causes, then exits 1.
exports.fail = function fail(err) {
  let line = `${err.name}${err.code ? ` ${err.code}` : ''}: ${err.message}`;
  for (let c = err.cause; c; c = c.cause) {
    if (!line.endsWith(c.message)) {
      line += `: ${c.code ? `${c.code} ` : ''}${c.message}`;
    }
  }
  process.stderr.write(line + '\n');
  process.exit(1);
};
