import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGroupName, sortGroups } from '../../src/core/groups.js';

test('group names are normalised to lower case and refuse what would break headers or rules', () => {
  const cases: [string, string | null][] = [
    ['admins', 'admins'],
    ['  Admins ', 'admins'],
    ['ops-team', 'ops-team'],
    ['team.a_b', 'team.a_b'],
    ['0day', '0day'],
    ['', null],
    ['   ', null],
    ['-lead', null],
    ['.hidden', null],
    ['a,b', null],
    ['a b', null],
    ['group:admins', null],
    ['ünicode', null],
    ['a'.repeat(64), 'a'.repeat(64)],
    ['a'.repeat(65), null],
    ['tab\there', null],
    ['new\nline', null],
  ];
  for (const [input, want] of cases) assert.equal(parseGroupName(input), want, JSON.stringify(input));
});

test('sortGroups removes duplicates and sorts', () => {
  assert.deepEqual(sortGroups(['b', 'a', 'b']), ['a', 'b']);
});
