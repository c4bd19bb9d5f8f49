// Validates xAPI statements with Learning Locker's xapi-validation (the
// checks its LRS runs, conformance tested). Reads a JSON array of statements
// on stdin and writes a JSON array with, for each statement, the list of
// problems found (empty when the statement is valid).
'use strict';
const validate = require('xapi-validation').default;

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const problems = JSON.parse(input).map((statement) =>
    validate(statement).map((w) => (w.path ? w.path.join('.') + ': ' : '') + (w.constructor && w.constructor.name) + ' ' + JSON.stringify(w.data === undefined ? null : w.data).slice(0, 200)));
  process.stdout.write(JSON.stringify(problems) + '\n');
});
